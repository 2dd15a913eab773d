"""Raw data files as they arrive: any type is accepted (an instrument's export, a spectrum, a
photograph), kept byte for byte, never opened or executed; its type is sniffed from its first
bytes for display only, its size bounded, and a scan hook (an installation's antivirus) may
refuse it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.settings import get_settings

MAX_FILES = 20
MAX_NAME = 255

# A scanner returns the reason to refuse the file, or None. Installations register theirs
# (clamd, an ICAP server); none is registered by default.
Scanner = Callable[[str, bytes], str | None]
SCANNERS: list[Scanner] = []

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"\x89HDF\r\n\x1a\n", "application/x-hdf5"),
)


def register_scanner(scanner: Scanner) -> None:
    if scanner not in SCANNERS:
        SCANNERS.append(scanner)


def sniff(content: bytes) -> str:
    """The media type the bytes show (never the one the sender claims)."""
    for magic, media_type in _MAGIC:
        if content.startswith(magic):
            return media_type
    try:
        content[:65536].decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain"


@dataclass(frozen=True)
class Upload:
    name: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def checked(uploads: list[Upload]) -> list[Upload]:
    """The uploads, refused as a whole if one is empty, too large, unnamed or refused by a
    scanner (nothing is stored then)."""
    limit = get_settings().rnd_max_file_bytes
    if len(uploads) > MAX_FILES:
        raise InvalidInput(f"at most {MAX_FILES} raw data files per entry", field="files")
    for upload in uploads:
        name = upload.name.strip().replace("\\", "/").rsplit("/", 1)[-1]
        if not name or len(name) > MAX_NAME or any(ord(c) < 32 for c in name):
            raise InvalidInput(
                f"a raw data file needs a name of 1-{MAX_NAME} printable characters",
                field="files",
            )
        if not upload.content:
            raise InvalidInput(f"{name} is empty", field="files")
        if len(upload.content) > limit:
            raise InvalidInput(
                f"{name} is {len(upload.content):,} bytes; a raw data file is at most "
                f"{limit:,} bytes (PHARMAQMS_RND_MAX_FILE_BYTES)",
                field="files",
            )
        for scanner in SCANNERS:
            refusal = scanner(name, upload.content)
            if refusal:
                raise InvalidInput(f"{name} was refused by the scanner: {refusal}", field="files")
    return [
        Upload(u.name.strip().replace("\\", "/").rsplit("/", 1)[-1], u.content) for u in uploads
    ]
