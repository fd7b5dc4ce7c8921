"""The EWS operations the stand-in answers, as the real exchangelib client sends them.

GetFolder, FindFolder, CreateFolder, DeleteFolder, CreateItem (SaveOnly, MIME, extended
properties), FindItem (restrictions, sort, paging), GetItem, UpdateItem (read state, extended
properties), DeleteItem, ResolveNames, and ConvertId as far as exchangelib's version guess needs.
Anything else is answered with ErrorInvalidOperation. Field values and properties are read and
written in ``properties``; restrictions, sorting and paging are ``find``'s.
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
from .find import matches, page_of, path_key, sort_key
from .model import (
    MSGFLAG_READ,
    MSGFLAG_UNSENT,
    PR_CLIENT_SUBMIT_TIME,
    PR_MESSAGE_DELIVERY_TIME,
    PR_MESSAGE_FLAGS,
    MailboxStore,
    PropertyKey,
    SandboxFolder,
    SandboxItem,
    SandboxMailbox,
    decode_id,
    format_datetime,
    mime_facts,
)
from .properties import (
    DEFAULT_ITEM_FIELDS,
    PLAIN_ITEM_FIELDS,
    ItemShape,
    apply_update,
    extended_properties,
    extended_value,
    folder_property,
    folder_value,
    item_value,
    parse_int,
    parse_time,
    synthesize_mime,
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


@dataclass(frozen=True)
class Caller:
    """Who is asking: the login, and the mailbox it acts as (itself or an impersonated one)."""

    login: str
    acting: str


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
            value = folder_property(mailbox, folder, attrs)
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
                    if matches(
                        restriction[0], lambda uri, f=f, mb=mailbox: folder_value(mb, f, uri)
                    )
                ]
            page, offset, last = page_of(found, view)
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
            mime = synthesize_mime(elem)
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
        properties = extended_properties(elem)
        flags_value = properties.pop(PropertyKey(tag=PR_MESSAGE_FLAGS), None)
        # Exchange saves a message created over EWS as a draft unless PR_MESSAGE_FLAGS says otherwise.
        flags = parse_int(flags_value.text) if flags_value else MSGFLAG_UNSENT
        read_text = elem.findtext(t("IsRead"))
        if read_text is not None:
            flags = flags | MSGFLAG_READ if parse_bool(read_text) else flags & ~MSGFLAG_READ
        now = self.clock()
        delivery = properties.pop(PropertyKey(tag=PR_MESSAGE_DELIVERY_TIME), None)
        submit = properties.pop(PropertyKey(tag=PR_CLIENT_SUBMIT_TIME), None)
        received = parse_time(delivery.text) if delivery else None
        sent = parse_time(submit.text) if submit else None
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
                if matches(restriction[0], lambda uri, it=it: item_value(it, uri))
            ]
        if sort is not None:
            for order in reversed(list(sort)):
                path = order[0] if len(order) else None
                if path is None:
                    continue
                uri = path_key(path)
                found.sort(
                    key=lambda pair, uri=uri: sort_key(uri, item_value(pair[1], uri)),
                    reverse=order.get("Order") == "Descending",
                )
        page, offset, last = page_of(found, view)
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
                    apply_update(item, update)
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
            fields.update(DEFAULT_ITEM_FIELDS)
        if shape.include_mime:
            sub(elem, t("MimeContent"), base64.b64encode(item.mime).decode(), CharacterSet="UTF-8")
        sub(elem, t("ItemId"), Id=item.item_id, ChangeKey=item.change_key)
        if "item:ParentFolderId" in fields:
            folder = mailbox.folders[item.folder_id]
            sub(elem, t("ParentFolderId"), Id=folder.folder_id, ChangeKey=folder.change_key)
        for uri in PLAIN_ITEM_FIELDS:
            if uri in fields:
                value = item_value(item, uri)
                if value is not None:
                    sub(elem, t(uri.split(":", 1)[1]), value)
        for attrs in shape.extended:
            value = extended_value(item, attrs)
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
                value = item_value(item, uri)
                if value is not None:
                    sub(elem, t(uri.split(":", 1)[1]), value)
