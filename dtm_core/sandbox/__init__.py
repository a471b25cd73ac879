"""The local sandbox: emulators of the services dtm drives, served by one background process.

``dtm sandbox up`` starts every :class:`~dtm_core.sandbox.service.SandboxService` the core and
the installed plugins contribute (hook ``dtm_sandbox_services``) on loopback ports; see
``docs/sandbox.md``. Nothing here is imported by commands other than ``dtm sandbox``.
"""
