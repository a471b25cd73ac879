"""Account endpoints: ``GET /user``, ``GET /orgs/{org}`` and ``GET /rate_limit``."""

from __future__ import annotations

from . import errors
from .call import Call, Reply
from .ratelimit import overview
from .shapes import organization_full, private_user


def get_user(call: Call) -> Reply:
    return Reply(200, private_user(call.user, call.root, call.world))


def get_org(call: Call) -> Reply:
    org = call.world.account(call.params["org"])
    if org is None or not org.is_org:
        raise errors.not_found(call.docs)
    return Reply(200, organization_full(org, call.root, call.world))


def get_rate_limit(call: Call) -> Reply:
    # Reading the limits does not spend them, as on GitHub.
    bucket = call.world.limiter.bucket(call.user.key)
    return Reply(200, overview(bucket, call.version), headers=bucket.headers())
