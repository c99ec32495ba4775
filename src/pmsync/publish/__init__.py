"""Publishing reports: to SharePoint through Microsoft Graph, or to a local folder.

Every publication is recorded in the store's ledger with its destination and content hash, so
publishing identical content again does nothing.
"""
