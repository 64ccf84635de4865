"""Extension packages as a library: reading one (``package``, ``files``), its
versions and dependencies (``versions``), the 3-way merge of an upgrade
(``merge``) and publishers' signatures (``signing``). Pure: no database, no web;
the platform installs, upgrades and uninstalls on top of it."""
