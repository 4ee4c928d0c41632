"""A local certificate authority for servers on loopback, for clients that insist on https."""

from __future__ import annotations

import ssl
from pathlib import Path


def loopback_tls_context(directory: Path, ca_file: str = "ca.pem") -> ssl.SSLContext:
    """A server context for 127.0.0.1/localhost signed by a fresh CA (trustme), whose certificate is
    written to `directory/ca_file` for clients to trust."""
    import trustme

    authority = trustme.CA()
    directory.mkdir(parents=True, exist_ok=True)
    authority.cert_pem.write_to_path(str(directory / ca_file))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context
