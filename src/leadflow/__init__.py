"""LeadFlow — sales-lead management and conversion analysis (销售线索管理与转化分析)."""

__version__ = "0.1.0"
