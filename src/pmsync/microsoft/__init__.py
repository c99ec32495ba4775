"""Talking to Microsoft: identity-platform tokens (:mod:`pmsync.microsoft.auth`) and a small
Graph / OData client (:mod:`pmsync.microsoft.graph`), shared by the Planner and Dataverse connectors
and the SharePoint publisher."""
