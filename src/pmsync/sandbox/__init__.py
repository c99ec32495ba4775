"""The sandbox: real HTTP servers on 127.0.0.1 that speak the vendors' wire protocols (Jira REST,
Microsoft identity platform, Microsoft Graph, Dataverse), seeded with demo data, with switchable
faults. Tests, benchmarks and ``pmsync demo`` talk to them through the real clients."""
