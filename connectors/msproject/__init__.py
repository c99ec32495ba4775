"""Microsoft Project schedules (MSPDI XML natively; .mpp/.mpx/.xer through MPXJ)."""
