"""A person is read at most once per transaction, found or not."""

from __future__ import annotations

from sqlalchemy import event

from records import people
from records.db import Database


async def test_a_person_without_a_row_is_asked_about_once_per_transaction(db: Database) -> None:
    sent: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if "FROM people" in statement:
            sent.append(statement)

    book = people.RoleBook({"leader": ["@leader:x"]})
    event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        async with db.transaction() as session:
            for _ in range(3):
                assert await book.roles_of(session, "@new:x") == {"staff"}
                assert await people.preferences(session, "@new:x") == (None, None)
            assert len(sent) == 1
            # Someone who becomes known in the transaction is found from then on.
            person = await people.ensure_person(session, "@new:x")
            person.lang = "en"
            assert await people.preferences(session, "@new:x") == ("en", None)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
    async with db.transaction() as session:
        assert await people.preferences(session, "@new:x") == ("en", None)
