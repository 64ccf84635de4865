"""production.ini serves over HTTPS (its session cookie is marked Secure) and
installs signed extension packages only."""

from __future__ import annotations

import configparser
import os

from pyramid import testing
from pyramid.interfaces import ISessionFactory
from pyramid.response import Response

import propolis
from propolis.platform.web.client import trusted_networks

INI = os.path.join(os.path.dirname(os.path.dirname(propolis.__file__)),
                   "production.ini")


def test_production_sends_the_session_cookie_over_https_only() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(INI, encoding="utf-8")
    settings = dict(parser["app:main"])
    assert settings["propolis.secure_cookies"] == "true"

    # the setting reaches the cookie (read by propolis.platform.auth)
    with testing.testConfig(settings={"propolis.secret": "x", **settings}) as config:
        config.include("propolis.platform.auth")
        config.commit()
        factory = config.registry.getUtility(ISessionFactory)
        request = testing.DummyRequest()
        factory(request)["token"] = "t"
        response = Response()
        request._process_response_callbacks(response)
    [cookie] = response.headers.getall("Set-Cookie")
    assert "; secure" in cookie.lower()


def test_production_requires_signed_extension_packages() -> None:
    from propolis.platform.tenancy.packages import Trust

    parser = configparser.ConfigParser(interpolation=None)
    parser.read(INI, encoding="utf-8")
    trust = Trust.from_settings(dict(parser["app:main"]))
    assert trust.require_signature is True
    assert Trust.from_settings({}).require_signature is False


def test_production_reads_the_client_address_from_its_proxy() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(INI, encoding="utf-8")
    networks = trusted_networks(parser["app:main"]["propolis.trusted_proxy"])
    assert {str(n) for n in networks} == {"127.0.0.1/32", "::1/128"}
