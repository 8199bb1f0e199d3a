"""A read-only PRAW client from PRAW's own configuration, and one-line reasons when that fails.

Credentials come from where PRAW looks for them: a ``praw.ini`` section (``./praw.ini``, then
``$XDG_CONFIG_HOME/praw.ini`` or ``~/.config/praw.ini``) or the ``praw_client_id``,
``praw_client_secret`` and ``praw_user_agent`` environment variables. No message here ever contains
a credential's value: only the names of the settings.
"""

from __future__ import annotations

import configparser
import os
import re

import praw
from praw.exceptions import MissingRequiredAttributeException
from prawcore.exceptions import InvalidInvocation, InvalidToken, OAuthException, PrawcoreException, ResponseException

TOKEN_PATH = "/api/v1/access_token"
REQUIRED_SETTINGS = ("client_id", "client_secret", "user_agent")


class CredentialsError(Exception):
    """Credentials missing, malformed or rejected; the message is one line and safe to print."""


def _section(site: str | None) -> str:
    return f"[{site or os.environ.get('praw_site') or 'DEFAULT'}]"  # the section PRAW itself reads


def _missing(setting: str, site: str | None) -> str:
    section = _section(site)
    return (
        f"Reddit API credentials missing: {setting} is not set; put it in the {section} section of praw.ini "
        f"or the praw_{setting} environment variable (see docs/reddit.md)"
    )


def connect(site: str | None = None) -> praw.Reddit:
    """A read-only ``praw.Reddit`` for the praw.ini section ``site`` (None: ``$praw_site`` or DEFAULT).

    Read-only is forced even when the section also has a username and password: collecting needs
    no account, and the application-only token cannot post anything.
    """
    try:
        # A nightly job must not ask PyPI for PRAW updates (and print about it) on every run.
        reddit = praw.Reddit(site_name=site, check_for_updates=False)
    except configparser.NoSectionError:
        raise CredentialsError(
            f"no {_section(site)} section in praw.ini (looked in ./praw.ini and $XDG_CONFIG_HOME or ~/.config/praw.ini)"
        ) from None
    except MissingRequiredAttributeException as error:
        match = re.search(r"'(\w+)'", str(error))
        setting = match.group(1) if match else "client_id"
        raise CredentialsError(_missing(setting, site)) from None
    except InvalidInvocation as error:  # e.g. "user_agent is not descriptive"
        raise CredentialsError(f"Reddit API settings rejected by PRAW: {error}") from None
    except ValueError as error:  # a praw.ini value of the wrong type (timeout=abc)
        raise CredentialsError(f"invalid PRAW configuration: {error}") from None
    reddit.read_only = True
    return reddit


def credentials_problem(error: BaseException) -> str | None:
    """A one-line reason when ``error`` means Reddit refused our credentials, else None."""
    if isinstance(error, OAuthException):
        return f"Reddit rejected the API credentials ({error.error})"
    if isinstance(error, InvalidToken):
        return "Reddit rejected the access token it issued for these credentials (HTTP 401)"
    if isinstance(error, ResponseException):
        url = getattr(error.response, "url", "") or ""
        if TOKEN_PATH in url:
            return (
                f"Reddit rejected the API credentials (HTTP {error.response.status_code} from the token endpoint); "
                "check the client id and secret of a 'script' app at https://www.reddit.com/prefs/apps"
            )
    return None


def is_credentials_error(error: BaseException) -> bool:
    return isinstance(error, PrawcoreException) and credentials_problem(error) is not None
