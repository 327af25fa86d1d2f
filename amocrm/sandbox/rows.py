"""The rows a sandbox account holds: entities, users, tasks, credentials and logs, as plain dataclasses.

Reference: https://www.amocrm.ru/developers/content/crm_platform/custom-fields,
https://www.amocrm.ru/developers/content/crm_platform/unsorted-api,
https://www.amocrm.ru/developers/content/crm_platform/webhooks-api
"""

from dataclasses import dataclass, field
from typing import Any

CustomFieldValues = list[dict[str, Any]] | None  # stored in the read format


@dataclass
class Contact:
    id: int
    name: str
    first_name: str = ""
    last_name: str = ""
    responsible_user_id: int = 0
    created_by: int = 0
    updated_by: int = 0
    created_at: int = 0
    updated_at: int = 0
    custom_fields_values: CustomFieldValues = None
    tag_ids: list[int] = field(default_factory=list)
    company_ids: list[int] = field(default_factory=list)
    in_unsorted: bool = False  # hidden until the unsorted item is accepted


@dataclass
class Company:
    id: int
    name: str
    responsible_user_id: int = 0
    created_by: int = 0
    updated_by: int = 0
    created_at: int = 0
    updated_at: int = 0
    custom_fields_values: CustomFieldValues = None
    tag_ids: list[int] = field(default_factory=list)


@dataclass
class Lead:
    id: int
    name: str
    pipeline_id: int
    status_id: int
    price: int = 0
    responsible_user_id: int = 0
    created_by: int = 0
    updated_by: int = 0
    created_at: int = 0
    updated_at: int = 0
    closed_at: int | None = None
    loss_reason_id: int | None = None
    custom_fields_values: CustomFieldValues = None
    tag_ids: list[int] = field(default_factory=list)
    contact_ids: list[int] = field(default_factory=list)
    main_contact_id: int | None = None
    company_ids: list[int] = field(default_factory=list)


@dataclass
class Note:
    id: int
    entity_type: str
    entity_id: int
    note_type: str
    params: dict[str, Any]
    created_by: int = 0
    responsible_user_id: int = 0
    created_at: int = 0
    updated_at: int = 0


@dataclass
class UnsortedItem:
    uid: str
    source_uid: str
    source_name: str
    category: str
    pipeline_id: int
    created_at: int
    metadata: dict[str, Any]
    lead_id: int
    contact_id: int | None = None
    company_id: int | None = None


@dataclass
class Tag:
    id: int
    name: str
    entity_type: str


@dataclass
class AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    created_at: float
    used: bool = False


@dataclass
class Token:
    access_token: str
    refresh_token: str
    client_id: str
    issued_at: float
    expires_at: float
    refresh_expires_at: float
    access_revoked: bool = False
    refresh_spent: bool = False


@dataclass
class Webhook:
    """One subscription; the destination is its key (posting it again updates it)."""

    id: int
    destination: str
    settings: list[str]
    sort: int = 10
    created_at: int = 0
    updated_at: int = 0
    created_by: int = 0
    disabled: bool = False


@dataclass
class WebhookDelivery:
    """One webhook POST the sandbox made: where, which event, and what came back (status None: no answer)."""

    time: float
    destination: str
    event: str
    lead_id: int
    status: int | None
    error: str = ""
    body: str = ""


@dataclass
class RequestRecord:
    time: float
    method: str
    path: str
    query: str
    status: int
    request_id: str
    dropped: bool = False
    body: Any = None
    connection: int = 0  # which accepted connection carried it: requests on one kept-alive connection share it


@dataclass
class User:
    """A user of the account (https://www.amocrm.ru/developers/content/crm_platform/users-api)."""

    id: int
    name: str
    email: str
    lang: str = "ru"
    is_admin: bool = False
    is_free: bool = False
    is_active: bool = True  # False: deactivated; still a user of the account, listed with is_active=false
    group_id: int | None = None
    role_id: int | None = None
    user_rank: str = "newbie"  # newbie | candidate | master


@dataclass
class Task:
    """A task (https://www.amocrm.ru/developers/content/crm_platform/tasks-api); attached to an entity or to nothing."""

    id: int
    text: str
    complete_till: int
    responsible_user_id: int
    task_type_id: int = 1
    entity_type: str | None = None
    entity_id: int | None = None
    duration: int = 0
    is_completed: bool = False
    result_text: str | None = None
    group_id: int = 0
    created_by: int = 0
    updated_by: int = 0
    created_at: int = 0
    updated_at: int = 0
