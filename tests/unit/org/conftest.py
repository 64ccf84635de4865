from collections.abc import Iterator

import pytest

from propolis.platform.db import Database
from propolis.platform.org.services import OrgService
from tests.common.org import (
    LEAD,
    PROJECT,
    OrgTenant,
    drop_org_tenant,
    make_org_tenant,
    open_org,
)


@pytest.fixture(scope="module")
def tenant(database: Database) -> Iterator[OrgTenant]:
    made = make_org_tenant(database, [PROJECT, LEAD])
    yield made
    drop_org_tenant(made)


@pytest.fixture
def org(tenant: OrgTenant) -> Iterator[OrgService]:
    with open_org(tenant) as service:
        yield service
