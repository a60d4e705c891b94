"""The webhook sender of the emulator: the shared ``webhook_samples`` package (the app's
"Enviar teste" uses the same builders without importing the emulator)."""

from webhook_samples import (  # noqa: F401 (re-exported)
    DEFAULT_KIRVANO_HEADER,
    EXTRA_NATIVE,
    FAMILIES,
    NATIVE,
    OVERRIDES,
    PLATFORMS,
    SENDERS,
    build_event,
    build_payload,
    encode,
    kiwify_signature,
    random_secret,
    resolve_event,
    send,
    sign,
    url_with_query,
)
