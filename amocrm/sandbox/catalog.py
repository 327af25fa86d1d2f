"""The sandbox account's start-up setup: users, task types, pipelines and custom fields.

Reference: https://www.amocrm.ru/developers/content/crm_platform/leads-pipelines,
https://www.amocrm.ru/developers/content/crm_platform/leads-api,
https://www.amocrm.ru/developers/content/crm_platform/custom-fields,
https://www.amocrm.ru/developers/content/crm_platform/contacts-api
"""

from dataclasses import dataclass, field

from .rows import User

ACCOUNT_ID = 30_000_001
ADMIN_USER_ID = 8_000_001
MANAGER_IDS = (8_000_002, 8_000_003, 8_000_004)
DEACTIVATED_USER_ID = 8_000_005

# Reference: https://www.amocrm.ru/developers/content/crm_platform/account-info (users_groups: id 0 is the default
# group "Отдел продаж"); a second group shows that a task's group_id follows its responsible user.
USER_GROUPS = {0: "Отдел продаж", 470_001: "Сервисный центр"}
MANAGER_ROLE = (300_001, "Менеджер")


def seed_users() -> list[User]:
    """The admin who installed the integration, three managers and one who left (deactivated)."""
    role_id = MANAGER_ROLE[0]
    return [
        User(ADMIN_USER_ID, "Bahrom Aliyev", "admin@example.com", is_admin=True, user_rank="master"),
        User(MANAGER_IDS[0], "Dilnoza Karimova", "dilnoza@example.com", group_id=0, role_id=role_id),
        User(MANAGER_IDS[1], "Aziz Rahimov", "aziz@example.com", group_id=0, role_id=role_id, lang="en"),
        User(MANAGER_IDS[2], "Malika Yusupova", "malika@example.com", group_id=470_001, role_id=role_id),
        User(DEACTIVATED_USER_ID, "Sardor Tursunov", "sardor@example.com", is_active=False, role_id=role_id),
    ]


@dataclass(frozen=True)
class TaskType:
    id: int
    name: str
    code: str | None = None
    color: str | None = None
    icon_id: int | None = None


# Reference: https://www.amocrm.ru/developers/content/crm_platform/tasks-api (1 and 2 are the standard types with
# fixed ids) and account-info (their names and codes); the third is one of the account's own types.
TASK_TYPES = (
    TaskType(1, "Связаться", "FOLLOW_UP"),
    TaskType(2, "Встреча", "MEETING"),
    TaskType(2_900_101, "Примерка слухового аппарата", None, "#ffdc7f", 5),
)

# 142 (won) and 143 (lost) exist in every pipeline; identify a status by (pipeline_id, status_id).
WON_STATUS_ID = 142
LOST_STATUS_ID = 143
UNSORTED_TYPE = 1


@dataclass(frozen=True)
class Status:
    id: int
    name: str
    sort: int
    color: str
    type: int = 0
    is_editable: bool = True


@dataclass(frozen=True)
class Pipeline:
    id: int
    name: str
    sort: int
    is_main: bool
    statuses: tuple[Status, ...]

    def status(self, status_id: int) -> Status | None:
        return next((s for s in self.statuses if s.id == status_id), None)

    @property
    def unsorted(self) -> Status:
        return next(s for s in self.statuses if s.type == UNSORTED_TYPE)

    @property
    def first_stage(self) -> Status:
        """A lead without status_id lands in the first (non-Unsorted) stage."""
        return next(s for s in self.statuses if s.type != UNSORTED_TYPE)


def _pipeline(pid: int, name: str, sort: int, is_main: bool, stages: list[tuple[int, str]]) -> Pipeline:
    statuses = [Status(pid * 10 + 1, "Неразобранное", 10, "#c1c1c1", type=UNSORTED_TYPE, is_editable=False)]
    statuses += [Status(sid, title, 20 + 10 * i, "#99ccff") for i, (sid, title) in enumerate(stages)]
    statuses.append(Status(WON_STATUS_ID, "Успешно реализовано", 10000, "#CCFF66", is_editable=False))
    statuses.append(Status(LOST_STATUS_ID, "Закрыто и не реализовано", 11000, "#D5D8DB", is_editable=False))
    return Pipeline(pid, name, sort, is_main, tuple(statuses))


PIPELINES: tuple[Pipeline, ...] = (
    _pipeline(7_700_001, "Sales", 1, True, [(77_000_012, "First contact"), (77_000_013, "Negotiation")]),
    _pipeline(7_700_002, "Dealers", 2, False, [(77_000_022, "New request"), (77_000_023, "Offer sent")]),
)
MAIN_PIPELINE = PIPELINES[0]


def pipeline(pipeline_id: int) -> Pipeline | None:
    return next((p for p in PIPELINES if p.id == pipeline_id), None)


@dataclass(frozen=True)
class Enum:
    id: int
    value: str
    sort: int
    code: str | None = None


@dataclass(frozen=True)
class CustomField:
    id: int
    name: str
    type: str
    entity_type: str
    sort: int
    code: str | None = None
    is_predefined: bool = False
    enums: tuple[Enum, ...] = field(default=())
    is_api_only: bool = False
    required_statuses: tuple[tuple[int, int], ...] = ()  # (pipeline_id, status_id) pairs
    remind: str | None = None  # birthday fields only
    tracking_callback: str | None = None  # tracking_data fields only

    def enum_by_code(self, code: str) -> Enum | None:
        """PHONE/EMAIL enums are named by their value (MOB, PRIV); a list field's enums by their own code."""
        if self.type == "multitext":
            return next((e for e in self.enums if e.value == code), None)
        return next((e for e in self.enums if e.code == code), None)

    def enum_by_id(self, enum_id: int) -> Enum | None:
        return next((e for e in self.enums if e.id == enum_id), None)


def _enums(first_id: int, codes: list[str]) -> tuple[Enum, ...]:
    return tuple(Enum(first_id + i, code, 2 + 2 * i) for i, code in enumerate(codes))


# Documented enum codes; MOBILE/PERSONAL are not among them.
PHONE_CODES = ["WORK", "WORKDD", "MOB", "FAX", "HOME", "OTHER"]
EMAIL_CODES = ["WORK", "PRIV", "OTHER"]

_UTM_CODES = ["UTM_SOURCE", "UTM_MEDIUM", "UTM_CAMPAIGN", "UTM_CONTENT", "UTM_TERM", "UTM_REFERRER"]
# Also seen on accounts (which exist differs by account): the referrer amoCRM's own forms fill, the ad networks'
# click ids, and the Google Analytics and Yandex Metrica visitor ids.
_CLICK_CODES = ["REFERRER", "GCLID", "YCLID", "FBCLID", "GCLIENTID", "_YM_UID"]

# tracking_data fields exist only on leads; their codes are what integrators write by field_code.
LEAD_FIELDS: tuple[CustomField, ...] = tuple(
    CustomField(900_101 + i, code.lower(), "tracking_data", "leads", 100 + i, code=code, is_predefined=True)
    for i, code in enumerate(_UTM_CODES + _CLICK_CODES)
) + (
    CustomField(900_201, "Source", "text", "leads", 510),
    CustomField(900_202, "Product ID", "text", "leads", 511),
    # A text field an integration can use as a findable delivery marker (`query` searches field values).
    CustomField(900_203, "Site lead ID", "text", "leads", 512),
)

CONTACT_FIELDS: tuple[CustomField, ...] = (
    CustomField(910_001, "Телефон", "multitext", "contacts", 4, "PHONE", True, _enums(1_001, PHONE_CODES)),
    CustomField(910_002, "Email", "multitext", "contacts", 6, "EMAIL", True, _enums(2_001, EMAIL_CODES)),
    CustomField(910_003, "Должность", "text", "contacts", 2, "POSITION", True),
)

COMPANY_FIELDS: tuple[CustomField, ...] = (
    CustomField(920_001, "Телефон", "multitext", "companies", 4, "PHONE", True, _enums(3_001, PHONE_CODES)),
    CustomField(920_002, "Email", "multitext", "companies", 6, "EMAIL", True, _enums(4_001, EMAIL_CODES)),
    CustomField(920_003, "Web", "url", "companies", 8, "WEB", True),
    CustomField(920_004, "Адрес", "textarea", "companies", 10, "ADDRESS", True),
)

FIELDS_BY_ENTITY: dict[str, tuple[CustomField, ...]] = {
    "leads": LEAD_FIELDS,
    "contacts": CONTACT_FIELDS,
    "companies": COMPANY_FIELDS,
}
