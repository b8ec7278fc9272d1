"""Image routes: decode, resize, blur, rotate and encode with Pillow."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from ..body import body_openapi, raw_body
from ..workloads import image_work
from ..workloads.image_work import OutputFormat, Transform
from .responses import errors

router = APIRouter(tags=["image"])


def _is_image(media_type: str) -> bool:
    return media_type.startswith("image/") or media_type == "application/octet-stream"


_image_body = raw_body(image_work.MAX_BODY, _is_image, "image (image/* or application/octet-stream)")
_body_doc = body_openapi(
    ["application/octet-stream", "image/png", "image/jpeg", "image/webp"],
    {"type": "string", "format": "binary"},
    f"Image bytes: png, jpeg, webp, gif, bmp or tiff; at most {image_work.MAX_BODY} bytes "
    f"and {image_work.MAX_PIXELS} pixels.",
)
_image_response: dict[int | str, dict[str, Any]] = {
    200: {"content": {kind: {} for kind in image_work.MEDIA_TYPES.values()}, "description": "The transformed image"}
}


async def transform_params(
    format: Annotated[OutputFormat, Query(description="output format")] = "png",
    width: Annotated[int, Query(ge=16, le=image_work.WIDTH_MAX, description="output width in pixels")] = (
        image_work.WIDTH_DEFAULT
    ),
    blur: Annotated[float, Query(ge=0, le=image_work.BLUR_MAX, allow_inf_nan=False)] = image_work.BLUR_DEFAULT,
    angle: Annotated[float, Query(ge=-360, le=360, allow_inf_nan=False)] = image_work.ANGLE_DEFAULT,
    quality: Annotated[int, Query(ge=1, le=95, description="jpeg/webp quality")] = image_work.QUALITY_DEFAULT,
) -> Transform:
    """Query parameters shared by both routes (async: it is trivial, keep it off the pool)."""
    return Transform(width=width, blur=blur, angle=angle, format=format, quality=quality)


def _image(data: bytes, spec: Transform) -> Response:
    return Response(data, media_type=image_work.MEDIA_TYPES[spec.format])


@router.post(
    "/image/transform",
    response_class=Response,
    responses={**_image_response, **errors(400, 413, 415, 422)},
    openapi_extra=_body_doc,
)
def transform_image(
    body: Annotated[bytes, Depends(_image_body)], spec: Annotated[Transform, Depends(transform_params)]
) -> Response:
    """Transform the posted image and return it in the requested format."""
    return _image(image_work.process(body, spec), spec)


@router.get("/image/synthetic", response_class=Response, responses={**_image_response, **errors(422)})
def synthetic_image(spec: Annotated[Transform, Depends(transform_params)]) -> Response:
    """The same pipeline on a JPEG generated at start-up; the client sends nothing."""
    return _image(image_work.process(image_work.synthetic_image(), spec), spec)
