from ninja import Field, Schema

from leadflow.leads.schemas import LeadOut, Plain

Text = str | None
Number = str | int | float | None


class LeadIn(Plain):
    """A lead as submitted. Required (R1.2): channel, company_name, contact_name, phone or
    email, industry, need; acquired_at defaults to the time of receipt."""

    channel: Text = Field(None, description="渠道代码，如 G（GET /api/v1/channels）")
    company_name: Text = Field(None, description="客户名称（个人线索填姓名）")
    contact_name: Text = None
    phone: str | int | None = Field(None, description="任意写法，存为 E.164")
    email: Text = None
    wechat: Text = None
    industry: Text = Field(None, description="行业名称，如 制造业")
    need: Text = Field(None, description="初步需求描述")
    acquired_at: Text = Field(None, description="获取时间 ISO 8601；无时区按 Asia/Shanghai")
    province: Text = None
    city: Text = None
    customer_type: Text = Field(None, description="enterprise/individual/government/…")
    employees: Number = None
    annual_revenue: Number = Field(None, description="年营收（万元）")
    budget_min: Number = Field(None, description="预算下限（元）")
    budget_max: Number = Field(None, description="预算上限（元）")
    purchase_by: Text = Field(None, description="采购时间节点 YYYY-MM-DD")
    current_supplier: Text = None
    notes: Text = None
    business_model: Text = None
    decision_maker_role: Text = None
    concerns: Text = None
    personality: Text = None
    consent_source: Text = None
    consent_at: Text = None


class IntakeOut(LeadOut):
    repeat: bool = Field(description="true: 重复线索，已记为对原线索的一次接触")
    matched_on: str | None = Field(description="phone / email / company")


class ReasonIn(Schema):
    reason: str = ""


class MergeIn(Schema):
    into: str = Field(description="要合并到的线索编号")
    reason: str = Field("", max_length=500)
