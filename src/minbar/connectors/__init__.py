"""One package per social network, all speaking the contract in :mod:`minbar.connectors.base`."""
