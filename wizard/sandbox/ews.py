"""The EWS operations the stand-in answers, as the real exchangelib client sends them.

GetFolder, FindFolder, CreateFolder, DeleteFolder, CreateItem (SaveOnly, MIME, extended
properties), FindItem (restrictions, sort, paging), GetItem, UpdateItem (read state, extended
properties), DeleteItem, ResolveNames, and ConvertId as far as exchangelib's version guess needs. Anything else is answered with ErrorInvalidOperation.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from .faults import FaultInjector, IncomingItem
from .model import (
    MSGFLAG_READ,
    MSGFLAG_UNSENT,
    PR_CLIENT_SUBMIT_TIME,
    PR_MESSAGE_DELIVERY_TIME,
    PR_MESSAGE_FLAGS,
    PR_MESSAGE_SIZE_EXTENDED,
    QUOTA_TAGS,
    MailboxStore,
    PropertyKey,
    PropertyValue,
    SandboxFolder,
    SandboxItem,
    SandboxMailbox,
    decode_id,
    format_datetime,
    mime_facts,
    parse_datetime,
)
from .soap import (
    EwsError,
    SoapFault,
    SoapRequest,
    envelope,
    m,
    parse_bool,
    response_message,
    serialize,
    sub,
    t,
    text_bool,
)

_FOLDER_ELEMENTS = {
    "IPF.Appointment": "CalendarFolder",
    "IPF.Contact": "ContactsFolder",
    "IPF.Task": "TasksFolder",
}
_CHANGING_OPERATIONS = {"CreateFolder", "DeleteFolder", "CreateItem", "UpdateItem", "DeleteItem"}
_DATE_FIELDS = {
    "item:DateTimeReceived",
    "item:DateTimeSent",
    "item:DateTimeCreated",
    "item:LastModifiedTime",
}
_INT_FIELDS = {"item:Size", "folder:TotalCount", "folder:ChildFolderCount", "folder:UnreadCount"}
_BOOL_FIELDS = {"message:IsRead", "item:IsDraft", "item:HasAttachments", "item:IsSubmitted"}


@dataclass(frozen=True)
class Caller:
    """Who is asking: the login, and the mailbox it acts as (itself or an impersonated one)."""

    login: str
    acting: str


@dataclass(frozen=True)
class ItemShape:
    base: str
    include_mime: bool
    fields: tuple[str, ...]
    extended: tuple[dict[str, str], ...]

    @classmethod
    def parse(cls, elem: etree._Element | None) -> ItemShape:
        if elem is None:
            return cls("IdOnly", False, (), ())
        base = (elem.findtext(t("BaseShape")) or "IdOnly").strip()
        include_mime = parse_bool(elem.findtext(t("IncludeMimeContent")))
        fields: list[str] = []
        extended: list[dict[str, str]] = []
        extra = elem.find(t("AdditionalProperties"))
        if extra is not None:
            for path in extra:
                name = etree.QName(path).localname
                if name == "FieldURI":
                    fields.append(path.get("FieldURI", ""))
                elif name == "ExtendedFieldURI":
                    extended.append(dict(path.attrib))
        if "item:MimeContent" in fields:
            include_mime = True
        return cls(base, include_mime, tuple(fields), tuple(extended))


_DEFAULT_ITEM_FIELDS = (
    "item:ParentFolderId",
    "item:ItemClass",
    "item:Subject",
    "item:DateTimeReceived",
    "item:Size",
    "item:IsDraft",
    "item:DateTimeSent",
    "item:DateTimeCreated",
    "item:HasAttachments",
    "message:Sender",
    "message:From",
    "message:InternetMessageId",
    "message:IsRead",
)


class EwsOperations:
    """Answers parsed SOAP requests against a MailboxStore; thread-safe through the store lock."""

    def __init__(
        self,
        store: MailboxStore,
        faults: FaultInjector,
        *,
        max_message_bytes: int | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.faults = faults
        self.max_message_bytes = max_message_bytes
        self.clock = clock

    # -- entry point ----------------------------------------------------------------------------

    def caller(self, request: SoapRequest, login: str) -> Caller:
        target = request.impersonated()
        if target is None or target.lower() == login.lower():
            return Caller(login.lower(), login.lower())
        if login.lower() not in self.store.impersonators:
            raise SoapFault(
                "ErrorImpersonateUserDenied",
                f"The account {login} does not have permission to impersonate {target}.",
            )
        if self.store.mailbox(target) is None:
            raise SoapFault("ErrorNonExistentMailbox", f"No mailbox with address {target}.")
        return Caller(login.lower(), target.lower())

    def handle(self, request: SoapRequest, login: str) -> bytes:
        handler = getattr(self, f"op_{request.operation}", None)
        if handler is None:
            raise SoapFault(
                "ErrorInvalidOperation",
                f"The EWS sandbox does not implement {request.operation}.",
            )
        caller = self.caller(request, login)
        root, body = envelope(request.api_version)
        response = sub(body, m(f"{request.operation}Response"))
        messages = sub(response, m("ResponseMessages"))
        with self.store.lock:
            handler(request.body, caller, messages)
            if request.operation in _CHANGING_OPERATIONS:
                self.store.version += 1
        return serialize(root)

    # -- access ---------------------------------------------------------------------------------

    def _mailbox(self, caller: Caller, address: str | None) -> SandboxMailbox:
        address = (address or caller.acting).lower()
        mailbox = self.store.mailbox(address)
        if mailbox is None:
            raise EwsError("ErrorNonExistentMailbox", f"No mailbox with address {address}.")
        if address not in (caller.acting, caller.login) and address not in self.store.delegates.get(
            caller.login, set()
        ):
            raise EwsError(
                "ErrorAccessDenied", f"{caller.login} has no access to the mailbox {address}."
            )
        return mailbox

    def _folder(self, caller: Caller, elem: etree._Element) -> tuple[SandboxMailbox, SandboxFolder]:
        name = etree.QName(elem).localname
        if name == "DistinguishedFolderId":
            address = elem.findtext(f"{t('Mailbox')}/{t('EmailAddress')}")
            mailbox = self._mailbox(caller, address)
            folder_id = mailbox.distinguished.get(elem.get("Id", ""))
            if folder_id is None:
                raise EwsError(
                    "ErrorFolderNotFound",
                    f"The distinguished folder {elem.get('Id')} is not there.",
                )
            return mailbox, mailbox.folders[folder_id]
        parts = decode_id(elem.get("Id", ""))
        if not parts or parts[0] != "folder":
            raise EwsError("ErrorInvalidIdMalformed", "Id is malformed.")
        mailbox = self._mailbox(caller, parts[1])
        folder = mailbox.folders.get(elem.get("Id", ""))
        if folder is None:
            raise EwsError("ErrorFolderNotFound", "The specified folder could not be found.")
        return mailbox, folder

    def _item(self, caller: Caller, elem: etree._Element) -> tuple[SandboxMailbox, SandboxItem]:
        item_id = elem.get("Id", "")
        parts = decode_id(item_id)
        if not parts or parts[0] != "item":
            raise EwsError("ErrorInvalidIdMalformed", "Id is malformed.")
        mailbox = self._mailbox(caller, parts[1])
        item = mailbox.items.get(item_id)
        if item is None:
            raise EwsError("ErrorItemNotFound", "The specified object was not found in the store.")
        return mailbox, item

    # -- folders --------------------------------------------------------------------------------

    def _render_folder(
        self,
        parent: etree._Element,
        mailbox: SandboxMailbox,
        folder: SandboxFolder,
        extended: tuple[dict[str, str], ...] = (),
    ) -> None:
        elem = sub(parent, t(_FOLDER_ELEMENTS.get(folder.folder_class or "", "Folder")))
        sub(elem, t("FolderId"), Id=folder.folder_id, ChangeKey=folder.change_key)
        if folder.parent_id:
            owner = mailbox.folders[folder.parent_id]
            sub(elem, t("ParentFolderId"), Id=owner.folder_id, ChangeKey=owner.change_key)
        if folder.folder_class:
            sub(elem, t("FolderClass"), folder.folder_class)
        sub(elem, t("DisplayName"), folder.name)
        sub(elem, t("TotalCount"), str(len(folder.items)))
        sub(elem, t("ChildFolderCount"), str(len(folder.children)))
        for attrs in extended:
            value = _folder_property(mailbox, folder, attrs)
            if value is not None:
                prop = sub(elem, t("ExtendedProperty"))
                sub(prop, t("ExtendedFieldURI"), **attrs)
                sub(prop, t("Value"), value)
        unread = sum(1 for i in folder.items if not mailbox.items[i].is_read)
        sub(elem, t("UnreadCount"), str(unread))

    def op_GetFolder(self, body: etree._Element, caller: Caller, out: etree._Element) -> None:
        extended = ItemShape.parse(body.find(m("FolderShape"))).extended
        for elem in body.find(m("FolderIds")) if body.find(m("FolderIds")) is not None else ():
            try:
                mailbox, folder = self._folder(caller, elem)
            except EwsError as exc:
                msg = response_message(out, "GetFolder", exc)
                sub(msg, m("Folders"))
                continue
            msg = response_message(out, "GetFolder")
            self._render_folder(sub(msg, m("Folders")), mailbox, folder, extended)

    def op_FindFolder(self, body: etree._Element, caller: Caller, out: etree._Element) -> None:
        traversal = body.get("Traversal", "Shallow")
        extended = ItemShape.parse(body.find(m("FolderShape"))).extended
        restriction = body.find(m("Restriction"))
        view = body.find(m("IndexedPageFolderView"))
        parents = body.find(m("ParentFolderIds"))
        for elem in parents if parents is not None else ():
            try:
                mailbox, folder = self._folder(caller, elem)
            except EwsError as exc:
                response_message(out, "FindFolder", exc)
                continue
            ids = (
                mailbox.subtree(folder.folder_id) if traversal == "Deep" else list(folder.children)
            )
            found = [mailbox.folders[i] for i in ids]
            if restriction is not None and len(restriction):
                found = [
                    f
                    for f in found
                    if _matches(
                        restriction[0], lambda uri, f=f, mb=mailbox: _folder_value(mb, f, uri)
                    )
                ]
            page, offset, last = _page(found, view)
            msg = response_message(out, "FindFolder")
            root_folder = sub(
                msg,
                m("RootFolder"),
                IndexedPagingOffset=str(offset),
                TotalItemsInView=str(len(found)),
                IncludesLastItemInRange=text_bool(last),
            )
            folders = sub(root_folder, t("Folders"))
            for f in page:
                self._render_folder(folders, mailbox, f, extended)

    def op_CreateFolder(self, body: etree._Element, caller: Caller, out: etree._Element) -> None:
        parent_elem = body.find(m("ParentFolderId"))
        folders = body.find(m("Folders"))
        for new in folders if folders is not None else ():
            try:
                if parent_elem is None or not len(parent_elem):
                    raise EwsError("ErrorInvalidRequest", "CreateFolder needs a ParentFolderId.")
                mailbox, parent = self._folder(caller, parent_elem[0])
                name = (new.findtext(t("DisplayName")) or "").strip()
                if not name:
                    raise EwsError("ErrorInvalidFolderName", "A folder needs a display name.")
                if any(mailbox.folders[c].name.lower() == name.lower() for c in parent.children):
                    raise EwsError(
                        "ErrorFolderExists", "A folder with the specified name already exists."
                    )
                # As on Exchange, a generic Folder created without FolderClass has none.
                folder_class = new.findtext(t("FolderClass")) or {
                    "CalendarFolder": "IPF.Appointment",
                    "ContactsFolder": "IPF.Contact",
                    "TasksFolder": "IPF.Task",
                }.get(etree.QName(new).localname)
                folder = self.store.create_folder(mailbox, parent.folder_id, name, folder_class)
            except EwsError as exc:
                msg = response_message(out, "CreateFolder", exc)
                sub(msg, m("Folders"))
                continue
            msg = response_message(out, "CreateFolder")
            created = sub(sub(msg, m("Folders")), t(etree.QName(new).localname))
            sub(created, t("FolderId"), Id=folder.folder_id, ChangeKey=folder.change_key)

    def op_DeleteFolder(self, body: etree._Element, caller: Caller, out: etree._Element) -> None:
        ids = body.find(m("FolderIds"))
        for elem in ids if ids is not None else ():
            try:
                mailbox, folder = self._folder(caller, elem)
                if folder.distinguished:
                    raise EwsError(
                        "ErrorDeleteDistinguishedFolder", "Distinguished folders cannot be deleted."
                    )
            except EwsError as exc:
                response_message(out, "DeleteFolder", exc)
                continue
            for folder_id in [folder.folder_id, *mailbox.subtree(folder.folder_id)]:
                for item_id in mailbox.folders[folder_id].items:
                    mailbox.items.pop(item_id, None)
            for folder_id in mailbox.subtree(folder.folder_id):
                mailbox.folders.pop(folder_id, None)
            if folder.parent_id:
                mailbox.folders[folder.parent_id].children.remove(folder.folder_id)
            mailbox.folders.pop(folder.folder_id)
            response_message(out, "DeleteFolder")

    # -- items ----------------------------------------------------------------------------------

    def op_CreateItem(self, body: etree._Element, caller: Caller, out: etree._Element) -> None:
        disposition = body.get("MessageDisposition", "SaveOnly")
        target = body.find(m("SavedItemFolderId"))
        items = body.find(m("Items"))
        for index, new in enumerate(items if items is not None else ()):
            try:
                if disposition != "SaveOnly":
                    raise EwsError(
                        "ErrorInvalidOperation",
                        "The EWS sandbox only saves items (MessageDisposition SaveOnly); it sends no mail.",
                    )
                if target is not None and len(target):
                    mailbox, folder = self._folder(caller, target[0])
                else:
                    mailbox = self._mailbox(caller, None)
                    folder = mailbox.well_known("drafts")
                item = self._create_item(mailbox, folder, new, index)
            except EwsError as exc:
                msg = response_message(out, "CreateItem", exc)
                sub(msg, m("Items"))
                continue
            msg = response_message(out, "CreateItem")
            created = sub(sub(msg, m("Items")), t(etree.QName(new).localname))
            sub(created, t("ItemId"), Id=item.item_id, ChangeKey=item.change_key)

    def _create_item(
        self, mailbox: SandboxMailbox, folder: SandboxFolder, elem: etree._Element, index: int
    ) -> SandboxItem:
        mime_text = elem.findtext(t("MimeContent"))
        if mime_text is not None:
            try:
                mime = base64.b64decode(mime_text, validate=False)
            except (binascii.Error, ValueError) as exc:
                raise EwsError("ErrorMimeContentInvalidBase64String", str(exc)) from exc
        else:
            mime = _synthesize_mime(elem)
        facts = mime_facts(mime)
        fault = self.faults.item_fault(IncomingItem(index, mime, facts.subject, facts.message_id))
        if fault is not None:
            raise EwsError(fault.code, fault.message)
        if self.max_message_bytes is not None and len(mime) > self.max_message_bytes:
            raise EwsError(
                "ErrorMessageSizeExceeded",
                f"The message exceeds the maximum supported size ({self.max_message_bytes} bytes).",
            )
        if mailbox.quota_bytes is not None and mailbox.size() + len(mime) > mailbox.quota_bytes:
            raise EwsError("ErrorQuotaExceeded", "The mailbox has exceeded its storage quota.")
        properties = _extended_properties(elem)
        flags_value = properties.pop(PropertyKey(tag=PR_MESSAGE_FLAGS), None)
        # Exchange saves a message created over EWS as a draft unless PR_MESSAGE_FLAGS says otherwise.
        flags = _int(flags_value.text) if flags_value else MSGFLAG_UNSENT
        read_text = elem.findtext(t("IsRead"))
        if read_text is not None:
            flags = flags | MSGFLAG_READ if parse_bool(read_text) else flags & ~MSGFLAG_READ
        now = self.clock()
        delivery = properties.pop(PropertyKey(tag=PR_MESSAGE_DELIVERY_TIME), None)
        submit = properties.pop(PropertyKey(tag=PR_CLIENT_SUBMIT_TIME), None)
        received = _datetime(delivery.text) if delivery else None
        sent = _datetime(submit.text) if submit else None
        item = SandboxItem(
            item_id=mailbox.next_id("item"),
            folder_id=folder.folder_id,
            mime=mime,
            properties=properties,
            message_flags=flags,
            received=received or now,
            sent=sent or facts.date,
            created=now,
            internet_message_id=facts.message_id,
            subject=facts.subject,
            sender=facts.sender,
            item_class=elem.findtext(t("ItemClass")) or "IPM.Note",
        )
        mailbox.items[item.item_id] = item
        folder.items.append(item.item_id)
        folder.change += 1
        return item

    def op_GetItem(self, body: etree._Element, caller: Caller, out: etree._Element) -> None:
        shape = ItemShape.parse(body.find(m("ItemShape")))
        ids = body.find(m("ItemIds"))
        for elem in ids if ids is not None else ():
            try:
                mailbox, item = self._item(caller, elem)
            except EwsError as exc:
                msg = response_message(out, "GetItem", exc)
                sub(msg, m("Items"))
                continue
            msg = response_message(out, "GetItem")
            self._render_item(sub(msg, m("Items")), mailbox, item, shape)

    def op_FindItem(self, body: etree._Element, caller: Caller, out: etree._Element) -> None:
        shape = ItemShape.parse(body.find(m("ItemShape")))
        traversal = body.get("Traversal", "Shallow")
        restriction = body.find(m("Restriction"))
        sort = body.find(m("SortOrder"))
        view = body.find(m("IndexedPageItemView"))
        parents = body.find(m("ParentFolderIds"))
        found: list[tuple[SandboxMailbox, SandboxItem]] = []
        try:
            for elem in parents if parents is not None else ():
                mailbox, folder = self._folder(caller, elem)
                if traversal != "Shallow":
                    continue  # no soft-deleted or associated items here
                found.extend((mailbox, mailbox.items[i]) for i in folder.items)
        except EwsError as exc:
            response_message(out, "FindItem", exc)
            return
        if restriction is not None and len(restriction):
            found = [
                (mb, it)
                for mb, it in found
                if _matches(restriction[0], lambda uri, it=it: _item_value(it, uri))
            ]
        if sort is not None:
            for order in reversed(list(sort)):
                path = order[0] if len(order) else None
                if path is None:
                    continue
                uri = _path_key(path)
                found.sort(
                    key=lambda pair, uri=uri: _sort_key(uri, _item_value(pair[1], uri)),
                    reverse=order.get("Order") == "Descending",
                )
        page, offset, last = _page(found, view)
        msg = response_message(out, "FindItem")
        root_folder = sub(
            msg,
            m("RootFolder"),
            IndexedPagingOffset=str(offset),
            TotalItemsInView=str(len(found)),
            IncludesLastItemInRange=text_bool(last),
        )
        items = sub(root_folder, t("Items"))
        for mailbox, item in page:
            self._render_item(items, mailbox, item, shape)

    def op_UpdateItem(self, body: etree._Element, caller: Caller, out: etree._Element) -> None:
        changes = body.find(m("ItemChanges"))
        for change in changes if changes is not None else ():
            try:
                id_elem = change.find(t("ItemId"))
                if id_elem is None:
                    raise EwsError("ErrorInvalidIdMalformed", "ItemChange without ItemId.")
                mailbox, item = self._item(caller, id_elem)
                updates = change.find(t("Updates"))
                for update in updates if updates is not None else ():
                    _apply_update(item, update)
                item.change += 1
            except EwsError as exc:
                msg = response_message(out, "UpdateItem", exc)
                sub(msg, m("Items"))
                continue
            msg = response_message(out, "UpdateItem")
            updated = sub(sub(msg, m("Items")), t("Message"))
            sub(updated, t("ItemId"), Id=item.item_id, ChangeKey=item.change_key)
            sub(sub(msg, m("ConflictResults")), t("Count"), "0")

    def op_DeleteItem(self, body: etree._Element, caller: Caller, out: etree._Element) -> None:
        ids = body.find(m("ItemIds"))
        for elem in ids if ids is not None else ():
            try:
                mailbox, item = self._item(caller, elem)
            except EwsError as exc:
                response_message(out, "DeleteItem", exc)
                continue
            mailbox.items.pop(item.item_id)
            folder = mailbox.folders[item.folder_id]
            folder.items.remove(item.item_id)
            folder.change += 1
            response_message(out, "DeleteItem")

    def op_ResolveNames(self, body: etree._Element, caller: Caller, out: etree._Element) -> None:
        entry = (body.findtext(m("UnresolvedEntry")) or "").strip()
        needle = entry[5:] if entry.lower().startswith("smtp:") else entry
        needle = needle.lower()
        matches = [
            mb
            for mb in self.store.mailboxes.values()
            if needle
            and (
                mb.address.lower() == needle
                or mb.address.lower().startswith(needle)
                or mb.display_name.lower().startswith(needle)
            )
        ]
        exact = [mb for mb in matches if mb.address.lower() == needle]
        matches = exact or matches
        if not matches:
            response_message(
                out,
                "ResolveNames",
                EwsError("ErrorNameResolutionNoResults", "No results were found."),
            )
            return
        if len(matches) > 1:
            msg = sub(out, m("ResolveNamesResponseMessage"), ResponseClass="Warning")
            sub(msg, m("MessageText"), "Multiple results were found.")
            sub(msg, m("ResponseCode"), "ErrorNameResolutionMultipleResults")
            sub(msg, m("DescriptiveLinkKey"), "0")
        else:
            msg = response_message(out, "ResolveNames")
        resolutions = sub(
            msg,
            m("ResolutionSet"),
            TotalItemsInView=str(len(matches)),
            IncludesLastItemInRange="true",
        )
        for mb in matches:
            mailbox = sub(sub(resolutions, t("Resolution")), t("Mailbox"))
            sub(mailbox, t("Name"), mb.display_name)
            sub(mailbox, t("EmailAddress"), mb.address)
            sub(mailbox, t("RoutingType"), "SMTP")
            sub(mailbox, t("MailboxType"), "Mailbox")

    def op_ConvertId(self, body: etree._Element, caller: Caller, out: etree._Element) -> None:
        # Only exchangelib's version guess sends this (with a dummy id); ids are never converted.
        ids = body.find(m("SourceIds"))
        for _ in ids if ids is not None else ():
            response_message(
                out, "ConvertId", EwsError("ErrorInvalidIdMalformed", "Id is malformed.")
            )

    # -- rendering items ------------------------------------------------------------------------

    def _render_item(
        self,
        parent: etree._Element,
        mailbox: SandboxMailbox,
        item: SandboxItem,
        shape: ItemShape,
    ) -> None:
        elem = sub(parent, t("Message" if item.item_class.startswith("IPM.Note") else "Item"))
        fields = set(shape.fields)
        if shape.base in ("Default", "AllProperties"):
            fields.update(_DEFAULT_ITEM_FIELDS)
        if shape.include_mime:
            sub(elem, t("MimeContent"), base64.b64encode(item.mime).decode(), CharacterSet="UTF-8")
        sub(elem, t("ItemId"), Id=item.item_id, ChangeKey=item.change_key)
        if "item:ParentFolderId" in fields:
            folder = mailbox.folders[item.folder_id]
            sub(elem, t("ParentFolderId"), Id=folder.folder_id, ChangeKey=folder.change_key)
        for uri in (
            "item:ItemClass",
            "item:Subject",
            "item:DateTimeReceived",
            "item:Size",
            "item:IsDraft",
            "item:DateTimeSent",
            "item:DateTimeCreated",
            "item:HasAttachments",
        ):
            if uri in fields:
                value = _item_value(item, uri)
                if value is not None:
                    sub(elem, t(uri.split(":", 1)[1]), value)
        for attrs in shape.extended:
            value = _extended_value(item, attrs)
            if value is None:
                continue
            prop = sub(elem, t("ExtendedProperty"))
            sub(prop, t("ExtendedFieldURI"), **attrs)
            if value.is_array:
                values = sub(prop, t("Values"))
                for v in value.values:
                    sub(values, t("Value"), v)
            else:
                sub(prop, t("Value"), value.text)
        if "item:LastModifiedTime" in fields:
            sub(elem, t("LastModifiedTime"), format_datetime(item.created))
        for uri in ("message:Sender", "message:From"):
            if uri in fields and item.sender:
                name, address = email.utils.parseaddr(item.sender)
                box = sub(sub(elem, t(uri.split(":", 1)[1])), t("Mailbox"))
                if name:
                    sub(box, t("Name"), name)
                sub(box, t("EmailAddress"), address)
                sub(box, t("RoutingType"), "SMTP")
        for uri in ("message:InternetMessageId", "message:IsRead"):
            if uri in fields:
                value = _item_value(item, uri)
                if value is not None:
                    sub(elem, t(uri.split(":", 1)[1]), value)


# -- helpers ------------------------------------------------------------------------------------


def _int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError as exc:
        raise EwsError("ErrorInvalidValueForProperty", f"{text!r} is not an integer.") from exc


def _datetime(text: str) -> datetime:
    try:
        return parse_datetime(text)
    except ValueError as exc:
        raise EwsError("ErrorInvalidValueForProperty", f"{text!r} is not a date-time.") from exc


def _synthesize_mime(elem: etree._Element) -> bytes:
    """A plain-text MIME message from Subject and Body, for items created without MimeContent."""
    subject = elem.findtext(t("Subject")) or ""
    body = elem.findtext(t("Body")) or ""
    lines = [
        f"Subject: {subject}",
        f"Date: {email.utils.format_datetime(datetime.now(UTC))}",
        f"Message-ID: {email.utils.make_msgid(domain='ews-sandbox.localhost')}",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "",
        body,
    ]
    return "\r\n".join(lines).encode("utf-8")


def _extended_properties(elem: etree._Element) -> dict[PropertyKey, PropertyValue]:
    out: dict[PropertyKey, PropertyValue] = {}
    for prop in elem.findall(t("ExtendedProperty")):
        uri = prop.find(t("ExtendedFieldURI"))
        if uri is None:
            continue
        try:
            key = PropertyKey.from_attributes(dict(uri.attrib))
        except ValueError as exc:
            raise EwsError("ErrorInvalidExtendedProperty", str(exc)) from exc
        kind = uri.get("PropertyType", "String")
        values = prop.find(t("Values"))
        if values is not None:
            out[key] = PropertyValue(kind, tuple(v.text or "" for v in values), True)
        else:
            out[key] = PropertyValue(kind, (prop.findtext(t("Value")) or "",))
    return out


def _extended_value(item: SandboxItem, attrs: dict[str, str]) -> PropertyValue | None:
    try:
        key = PropertyKey.from_attributes(attrs)
    except ValueError:
        return None
    if key.tag is not None:
        text = item.tagged(key.tag)
        if text is None:
            stored = item.properties.get(key)
            return stored
        stored = item.properties.get(key)
        if stored is not None:
            return stored
        return PropertyValue(attrs.get("PropertyType", "String"), (text,))
    return item.properties.get(key)


def _folder_property(
    mailbox: SandboxMailbox, folder: SandboxFolder, attrs: dict[str, str]
) -> str | None:
    """Folder MAPI properties a client may read: the folder's size, the mailbox quotas (KB)."""
    try:
        key = PropertyKey.from_attributes(attrs)
    except ValueError:
        return None
    if key.tag == PR_MESSAGE_SIZE_EXTENDED:
        return str(sum(mailbox.items[i].size for i in folder.items))
    quota_holder = folder.distinguished in ("root", "msgfolderroot")
    if key.tag in QUOTA_TAGS and quota_holder and mailbox.quota_bytes is not None:
        return str(mailbox.quota_bytes // 1024)
    return None


def _apply_update(item: SandboxItem, update: etree._Element) -> None:
    kind = etree.QName(update).localname
    path = update[0] if len(update) else None
    if path is None:
        return
    path_name = etree.QName(path).localname
    if path_name == "ExtendedFieldURI":
        key = PropertyKey.from_attributes(dict(path.attrib))
        if kind == "DeleteItemField":
            item.properties.pop(key, None)
            return
        holder = update[1] if len(update) > 1 else None
        if holder is None:
            return
        props = _extended_properties(holder)
        value = props.get(key)
        if value is None:
            return
        if key.tag == PR_MESSAGE_FLAGS:
            item.message_flags = _int(value.text)
        elif key.tag == PR_MESSAGE_DELIVERY_TIME:
            item.received = _datetime(value.text)
        elif key.tag == PR_CLIENT_SUBMIT_TIME:
            item.sent = _datetime(value.text)
        else:
            item.properties[key] = value
        return
    uri = path.get("FieldURI", "")
    if uri == "message:IsRead" and kind == "SetItemField" and len(update) > 1:
        read = parse_bool(update[1].findtext(t("IsRead")))
        item.message_flags = (
            item.message_flags | MSGFLAG_READ if read else item.message_flags & ~MSGFLAG_READ
        )


def _item_value(item: SandboxItem, uri: str) -> str | None:
    if uri.startswith("ext:"):
        return item.tagged(int(uri[4:]))
    values: dict[str, Callable[[], str | None]] = {
        "item:ItemClass": lambda: item.item_class,
        "item:Subject": lambda: item.subject,
        "item:DateTimeReceived": lambda: format_datetime(item.received),
        "item:Size": lambda: str(item.size),
        "item:IsDraft": lambda: text_bool(item.is_draft),
        "item:DateTimeSent": lambda: format_datetime(item.sent) if item.sent else None,
        "item:DateTimeCreated": lambda: format_datetime(item.created),
        "item:LastModifiedTime": lambda: format_datetime(item.created),
        "item:HasAttachments": lambda: text_bool(
            b"content-disposition: attachment" in item.mime[:200_000].lower()
        ),
        "message:InternetMessageId": lambda: item.internet_message_id,
        "message:IsRead": lambda: text_bool(item.is_read),
        "item:ItemId": lambda: item.item_id,
    }
    getter = values.get(uri)
    return getter() if getter else None


def _folder_value(mailbox: SandboxMailbox, folder: SandboxFolder, uri: str) -> str | None:
    values: dict[str, Callable[[], str | None]] = {
        "folder:DisplayName": lambda: folder.name,
        "folder:FolderClass": lambda: folder.folder_class,
        "folder:TotalCount": lambda: str(len(folder.items)),
        "folder:ChildFolderCount": lambda: str(len(folder.children)),
    }
    getter = values.get(uri)
    return getter() if getter else None


def _path_key(path: etree._Element) -> str:
    name = etree.QName(path).localname
    if name == "ExtendedFieldURI":
        tag = path.get("PropertyTag")
        if tag:
            return f"ext:{int(tag, 16) if tag.lower().startswith('0x') else int(tag)}"
        return "ext:unknown"
    return path.get("FieldURI", "")


def _typed(uri: str, text: str | None) -> object:
    if text is None:
        return None
    if uri in _DATE_FIELDS:
        try:
            return parse_datetime(text)
        except ValueError:
            return text
    if uri in _INT_FIELDS or uri.startswith("ext:"):
        try:
            return int(text)
        except ValueError:
            return text.casefold()
    if uri in _BOOL_FIELDS:
        return parse_bool(text)
    return text.casefold()


def _sort_key(uri: str, text: str | None) -> tuple[int, object]:
    value = _typed(uri, text)
    return (0, "") if value is None else (1, value)


def _matches(expr: etree._Element, value_of: Callable[[str], str | None]) -> bool:
    """Evaluate an EWS restriction (And/Or/Not, comparisons, Exists, Contains) for one object."""
    name = etree.QName(expr).localname
    if name == "And":
        return all(_matches(e, value_of) for e in expr)
    if name == "Or":
        return any(_matches(e, value_of) for e in expr)
    if name == "Not":
        return not _matches(expr[0], value_of)
    uri = _path_key(expr[0])
    actual = value_of(uri)
    if name == "Exists":
        return actual is not None
    if name in ("Contains", "Excludes"):
        constant = expr.find(t("Constant"))
        needle = (constant.get("Value", "") if constant is not None else "").casefold()
        hay = (actual or "").casefold()
        mode = expr.get("ContainmentMode", "Substring")
        hit = {
            "FullString": hay == needle,
            "Prefixed": hay.startswith(needle),
        }.get(mode, needle in hay)
        return hit if name == "Contains" else not hit
    constant = expr.find(f"{t('FieldURIOrConstant')}/{t('Constant')}")
    if constant is None or actual is None:
        return name == "IsNotEqualTo" and actual is None and constant is not None
    left, right = _typed(uri, actual), _typed(uri, constant.get("Value", ""))
    try:
        return {
            "IsEqualTo": lambda: left == right,
            "IsNotEqualTo": lambda: left != right,
            "IsGreaterThan": lambda: left > right,  # type: ignore[operator]
            "IsGreaterThanOrEqualTo": lambda: left >= right,  # type: ignore[operator]
            "IsLessThan": lambda: left < right,  # type: ignore[operator]
            "IsLessThanOrEqualTo": lambda: left <= right,  # type: ignore[operator]
        }[name]()
    except (KeyError, TypeError):
        return False


# Exchange's default throttling policy returns at most 1000 entries per FindItem/FindFolder.
FIND_COUNT_LIMIT = 1000


def _page(found: list, view: etree._Element | None) -> tuple[list, int, bool]:  # type: ignore[type-arg]
    """The slice an IndexedPage view asks for, the next offset, and whether it is the last."""
    total = len(found)
    if view is None:
        found = found[:FIND_COUNT_LIMIT]
        return found, len(found), len(found) == total
    limit = min(int(view.get("MaxEntriesReturned") or FIND_COUNT_LIMIT), FIND_COUNT_LIMIT)
    offset = int(view.get("Offset") or 0)
    if view.get("BasePoint") == "End":
        stop = max(total - offset, 0)
        start = max(stop - limit, 0)
        page = found[start:stop]
        return page, offset + len(page), start == 0
    page = found[offset : offset + limit]
    return page, offset + len(page), offset + len(page) >= total
