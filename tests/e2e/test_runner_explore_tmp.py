from datetime import UTC, datetime, timedelta
from tests.e2e.harness import running_bot, onboard

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

async def test_explore(shipped_rules, db_url):
    async with running_bot(shipped_rules, db_url, START) as h:
        await onboard(h)
        st, v = await h.program()
        print("PHASE", st.phase_id, st.next, v)
        for m in h.messages():
            print("MSG", m.message_id, repr(m.text[:150]), m.button_texts)
        n = len(h.messages())
        await h.advance(timedelta(days=14, hours=-1))
        for m in h.messages()[n:]:
            print(h.clock.at, "MSG", m.message_id, repr(m.text[:150]), m.button_texts)
        st, v = await h.program()
        print("PHASE", st.phase_id, st.next, v)
