"""What oversight bodies ask for beyond RAG and EVM: criticality, lifecycle gates, funding by source
and fiscal year, contracts, staffing and benefits plans (pmsync.yaml), the inputs people maintain
(CIO rating, independent findings, gate decisions, benefits realised: ``connectors/oversight_file.py``),
and jurisdiction presets (``presets/*.yaml``). Reconcile's :mod:`pmsync.reconcile.oversight` turns
them into figures; docs/report.md explains each and cites its public source."""
