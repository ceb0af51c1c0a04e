"""The page's figure canvas: ipympl's, with a faster encoder for the frames it sends.

Every budget step sends the browser a PNG of the pixels that changed (the rest transparent), which
ipympl's frontend draws over the last frame at the top-left corner. matplotlib sends it at the
figure's full size and encodes it with Pillow's default zlib level, which took most of a step's
kernel time (about 14 of 18 ms for a 1000 x 560 figure). Here a changed frame is cut to the
changed pixels' bottom-right corner (the transparent rest would change nothing), the transparent
rows above the change are a cached compressed block, and :func:`png_rgba` writes the rest with
no row filter and zlib's run-length strategy at level 1.
"""

from __future__ import annotations

import functools
import struct
import zlib

import numpy as np

_ADLER_MOD = 65521  # Adler-32's modulus (RFC 1950)


@functools.lru_cache(maxsize=32)
def _blank_rows(nbytes: int) -> bytes:
    """``nbytes`` zero bytes as raw deflate blocks, fully flushed (byte-aligned, not final, no references
    past them), so that a second deflate stream may follow them in the same zlib stream."""
    packer = zlib.compressobj(1, zlib.DEFLATED, -15, 9, zlib.Z_RLE)
    return packer.compress(bytes(nbytes)) + packer.flush(zlib.Z_FULL_FLUSH)


def png_rgba(pixels: np.ndarray, blank_rows_above: int = 0) -> bytes:
    """An 8-bit RGBA PNG of ``pixels`` (height x width x 4, uint8): filter 0, zlib RLE level 1.

    With ``blank_rows_above``, the image has that many fully transparent rows above ``pixels``.
    """
    height, width, _ = pixels.shape
    row_bytes = width * 4 + 1  # each row starts with its filter type, 0 (none)
    rows = np.zeros((height, row_bytes), np.uint8)
    rows[:, 1:] = pixels.reshape(height, -1)
    blank = blank_rows_above * row_bytes
    # Adler-32 over the blank rows (zero bytes: a stays 1, b grows by 1 a byte), then over the rest.
    checksum = zlib.adler32(rows, ((blank % _ADLER_MOD) << 16) | 1)
    packer = zlib.compressobj(1, zlib.DEFLATED, -15, 9, zlib.Z_RLE)
    deflated = (_blank_rows(blank) if blank else b"") + packer.compress(rows) + packer.flush()
    data = b"\x78\x01" + deflated + struct.pack(">I", checksum)  # zlib header: deflate, 32K window, level 1

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    header = struct.pack(">IIBBBBB", width, height + blank_rows_above, 8, 6, 0, 0, 0)  # 8 bits, RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def diff_frame(buff: np.ndarray, last: np.ndarray) -> bytes:
    """The PNG ipympl draws over the frame ``last`` to show ``buff`` (both height x width uint32 RGBA):
    the changed pixels, transparent elsewhere, cut at the changed pixels' last row and column."""
    changed = buff != last
    rows, columns = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
    if not rows.size:  # nothing changed: one transparent pixel
        return png_rgba(np.zeros((1, 1, 4), np.uint8))
    top, bottom, right = rows[0], rows[-1] + 1, columns[-1] + 1
    out = np.where(changed[top:bottom, :right], buff[top:bottom, :right], 0)
    return png_rgba(out.view(np.uint8).reshape(*out.shape, 4), blank_rows_above=int(top))


def canvas_class():
    """ipympl's Canvas with :func:`png_rgba` for the frames (imported on demand: ipympl switches backends)."""
    from ipympl.backend_nbagg import Canvas

    class FastCanvas(Canvas):
        """ipympl's Canvas sending its frames encoded by :func:`png_rgba`, a changed frame cut to the change."""

        def get_diff_image(self):
            # As matplotlib's FigureCanvasWebAggCore.get_diff_image (3.x), with the faster encoder.
            if not self._png_is_old:
                return None
            pixels = np.asarray(self.get_renderer().buffer_rgba())
            buff = pixels.view(np.uint32).squeeze(2)
            # A pixel not fully opaque (alpha, the top byte of a little-endian RGBA word, below 255)
            # would be ambiguous in a diff: send the whole frame then.
            translucent = ((buff < np.uint32(0xFF000000)).any() if np.little_endian
                           else (pixels[:, :, 3] != 255).any())
            self._png_is_old = False
            if self._force_full or buff.shape != self._last_buff.shape or translucent:
                self.set_image_mode("full")
                self._last_buff = buff.copy()
                self._force_full = False
                return png_rgba(pixels)
            self.set_image_mode("diff")
            frame = diff_frame(buff, self._last_buff)
            self._last_buff = buff.copy()
            return frame

    return FastCanvas
