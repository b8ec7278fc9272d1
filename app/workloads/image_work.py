"""Image pipeline: decode, resize, blur, rotate, encode, with Pillow.

Pillow releases the GIL in decoding, resizing, filtering and PNG compression, so this
workload scales partly even on 3.14; JPEG encoding to memory holds it. Every limit
here protects the server from input, not the other way round: decoded pixels are
capped (Pillow's decompression-bomb check, turned into an error), and so are the
pixels the resize would produce.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from typing import Literal

from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError, features

from ..errors import BadInput, PayloadTooLarge, Unprocessable, UnsupportedMediaType

OutputFormat = Literal["png", "jpeg", "webp"]

#: Largest accepted body for POST /image/transform.
MAX_BODY = 8 * 1024 * 1024
#: Largest decoded image (pixels), checked from the header before any pixel is
#: decoded. Pillow's own bomb check uses the same figure: it warns above it and raises
#: above twice it. :func:`decode` refuses both with a 413, without relying on a
#: process-wide warnings filter (test runners and servers reset those).
MAX_PIXELS = 4096 * 4096
#: Largest image the resize may produce, whatever the aspect ratio.
MAX_OUTPUT_PIXELS = 2048 * 2048
WIDTH_DEFAULT = 640
WIDTH_MAX = 2048
BLUR_DEFAULT = 2.0
BLUR_MAX = 20.0
ANGLE_DEFAULT = 12.0
QUALITY_DEFAULT = 85
#: Formats accepted as input; everything else is a 415.
INPUT_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")
MEDIA_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
SYNTHETIC_SIZE = (1280, 960)

Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass(frozen=True)
class Transform:
    """What to do to an image; the defaults cost tens of milliseconds of CPU."""

    width: int = WIDTH_DEFAULT
    blur: float = BLUR_DEFAULT
    angle: float = ANGLE_DEFAULT
    format: OutputFormat = "png"
    quality: int = QUALITY_DEFAULT


def decode(data: bytes) -> Image.Image:
    """Decode image bytes into upright RGB(A) pixels.

    415 for bytes that are no supported image, 413 for decompression bombs, 422 for
    truncated or corrupt files.
    """
    try:
        image = Image.open(io.BytesIO(data), formats=INPUT_FORMATS)
        _check_pixels(image.size)
        image.load()
        return _rgb(ImageOps.exif_transpose(image) or image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise PayloadTooLarge(f"image is over the limit of {MAX_PIXELS} pixels ({error})") from None
    except UnidentifiedImageError:
        accepted = ", ".join(name.lower() for name in INPUT_FORMATS)
        raise UnsupportedMediaType(f"not an image in a supported format ({accepted})") from None
    except (BadInput, MemoryError):
        raise
    except Exception as error:
        # Guard: decoders raise OSError, SyntaxError, ValueError, struct.error, EOFError, …
        # on truncated or corrupt files. Only decoding untrusted bytes is guarded this way;
        # an exception in the later steps is a bug and stays a 500.
        raise Unprocessable(f"cannot decode image: {type(error).__name__}: {error}") from None


def transform(image: Image.Image, spec: Transform) -> bytes:
    """Resize to ``spec.width``, blur, rotate, and encode in ``spec.format``."""
    if spec.format == "webp" and not webp_available():
        raise Unprocessable("format=webp is unavailable: this Pillow was built without WebP support")
    width, height = image.size
    new_height = max(1, round(height * spec.width / width))
    if spec.width * new_height > MAX_OUTPUT_PIXELS:
        raise Unprocessable(
            f"resizing {width}x{height} to width {spec.width} gives {spec.width}x{new_height} pixels, "
            f"over the limit of {MAX_OUTPUT_PIXELS}"
        )
    image = image.resize((spec.width, new_height), Image.Resampling.LANCZOS)
    if spec.blur > 0:
        image = image.filter(ImageFilter.GaussianBlur(spec.blur))
    image = image.rotate(spec.angle, resample=Image.Resampling.BICUBIC, expand=True)
    return encode(image, spec)


def encode(image: Image.Image, spec: Transform) -> bytes:
    """Encode into memory in the requested format."""
    out = io.BytesIO()
    if spec.format == "jpeg":
        image.convert("RGB").save(out, "JPEG", quality=spec.quality)
    elif spec.format == "webp":
        image.save(out, "WEBP", quality=spec.quality)
    else:
        image.save(out, "PNG")
    return out.getvalue()


def process(data: bytes, spec: Transform) -> bytes:
    """The whole pipeline, bytes in and bytes out."""
    return transform(decode(data), spec)


def webp_available() -> bool:
    """Whether this Pillow can encode WebP."""
    return bool(features.check("webp"))


@cache
def synthetic_image() -> bytes:
    """A JPEG photo-like test image (gradients plus noise), made once per process."""
    size = SYNTHETIC_SIZE
    red = Image.linear_gradient("L").resize(size)
    green = Image.radial_gradient("L").resize(size)
    blue = Image.effect_noise(size, 48).point(lambda value: value // 2 + 64)
    image = Image.merge("RGB", (red, green, blue))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def _check_pixels(size: tuple[int, int]) -> None:
    pixels = size[0] * size[1]
    if pixels > MAX_PIXELS:
        raise PayloadTooLarge(f"image is {size[0]}x{size[1]} = {pixels} pixels; the limit is {MAX_PIXELS}")
    if pixels == 0:
        raise Unprocessable("image has no pixels")


def _rgb(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when the image has transparency, so every filter applies."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    wanted = "RGBA" if has_alpha else "RGB"
    return image if image.mode == wanted else image.convert(wanted)
