"""The image pipeline as plain functions: every format in and out, and every refusal."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.errors import PayloadTooLarge, Unprocessable, UnsupportedMediaType
from app.workloads import image_work
from app.workloads.image_work import Transform

from .conftest import image_bytes


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_output_is_in_the_requested_format_and_width(fmt: str) -> None:
    if fmt == "webp" and not image_work.webp_available():
        pytest.skip("this Pillow has no WebP")
    out = opened(image_work.process(image_bytes("PNG", (200, 100)), Transform(width=64, angle=0, format=fmt)))  # type: ignore[arg-type]
    assert out.format == fmt.upper()
    assert out.size == (64, 32)


def test_rotation_expands_the_canvas() -> None:
    out = opened(image_work.process(image_bytes("PNG", (200, 100)), Transform(width=100, angle=45)))
    assert out.width > 100 and out.height > 50


@pytest.mark.parametrize(
    ("fmt", "mode", "save"),
    [
        ("PNG", "RGBA", {}),
        ("PNG", "P", {"transparency": 0}),
        ("PNG", "I;16", {}),
        ("JPEG", "CMYK", {}),
        ("GIF", "P", {}),
        ("BMP", "1", {}),
        ("TIFF", "F", {}),
        ("WEBP", "RGB", {}),
    ],
)
def test_supported_inputs_decode_to_rgb_or_rgba(fmt: str, mode: str, save: dict[str, object]) -> None:
    decoded = image_work.decode(image_bytes(fmt, (40, 30), mode, **save))
    assert decoded.mode in ("RGB", "RGBA")
    assert decoded.size == (40, 30)


def test_transparency_survives_as_rgba() -> None:
    assert image_work.decode(image_bytes("PNG", (8, 8), "RGBA")).mode == "RGBA"


def test_jpeg_output_of_an_rgba_image_works() -> None:
    out = image_work.process(image_bytes("PNG", (40, 30), "RGBA"), Transform(width=32, format="jpeg"))
    assert opened(out).mode == "RGB"


@pytest.mark.parametrize("data", [b"hello, world", b"\x00" * 512, image_bytes("ICO", (32, 32))], ids=["text", "zeros", "ico"])
def test_bytes_in_no_supported_format_are_415(data: bytes) -> None:
    with pytest.raises(UnsupportedMediaType, match="not an image"):
        image_work.decode(data)


def test_a_truncated_image_is_422() -> None:
    with pytest.raises(Unprocessable, match="cannot decode"):
        image_work.decode(image_bytes("PNG", (400, 300))[:300])


@pytest.mark.parametrize("side", [4097, 6000], ids=["over-limit", "over-twice-the-limit"])
def test_decompression_bombs_are_413(side: int) -> None:
    bomb = image_bytes("PNG", (side, side), "1")  # a few kB that would decode to millions of pixels
    assert len(bomb) < image_work.MAX_BODY
    with pytest.raises(PayloadTooLarge, match=str(image_work.MAX_PIXELS)):
        image_work.decode(bomb)


def test_pixel_limit_is_pillows_limit() -> None:
    assert Image.MAX_IMAGE_PIXELS == image_work.MAX_PIXELS


def test_resizing_into_too_many_pixels_is_422() -> None:
    tall = image_work.decode(image_bytes("PNG", (1, 4000)))
    with pytest.raises(Unprocessable, match="over the limit"):
        image_work.transform(tall, Transform(width=64))


def test_synthetic_image_is_a_jpeg_of_the_documented_size() -> None:
    image = opened(image_work.synthetic_image())
    assert image.format == "JPEG"
    assert image.size == image_work.SYNTHETIC_SIZE
    assert image_work.synthetic_image() is image_work.synthetic_image()  # made once
