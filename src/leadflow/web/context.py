"""Navigation by role: each user sees the screens their work needs."""

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from leadflow.accounts.models import Role
from leadflow.assignment.pool import may_see_pool
from leadflow.notifications.services import unread_count


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    items = []
    if user.has_role(Role.REP):
        items.append((_("我的一天"), reverse("followups:day"), "day"))
    items.append((_("线索列表"), reverse("leads:list"), "leads"))
    items.append((_("数据看板"), reverse("analytics:dashboard"), "dashboard"))
    if user.has_role(Role.REP, Role.MANAGER, Role.ADMIN):
        items.append((_("销售看板"), reverse("followups:board"), "board"))
    if user.has_role(Role.REP):
        items.append((_("待我确认"), reverse("assignment:inbox"), "inbox"))
    if may_see_pool(user):
        items.append((_("公海"), reverse("assignment:pool"), "pool"))
    if user.has_role(Role.MANAGER, Role.ADMIN):
        items.append((_("分配台"), reverse("assignment:console"), "console"))
        items.append((_("评审会"), reverse("followups:review"), "review"))
        items.append((_("周复盘"), reverse("analytics:weekly-latest"), "weekly"))
        items.append((_("跟进时限"), reverse("followups:plans"), "plans"))
    if user.has_perm("leads.add_lead"):
        items.append((_("录入线索"), reverse("intake:new"), "new"))
        items.append((_("批量导入"), reverse("intake:imports"), "imports"))
    if user.has_perm("leads.verify_lead"):
        items.append((_("核对队列"), reverse("intake:queue"), "queue"))
    items.append((_("我的退回"), reverse("intake:returned"), "returned"))
    if user.has_role(Role.ADMIN) or user.is_staff:
        items.append((_("系统配置"), reverse("admin:index"), "admin"))
    roles = [str(Role(r).label) for r in sorted(user.roles) if r in Role.values]
    return {"nav": items, "user_roles": roles, "unread_notifications": unread_count(user)}
