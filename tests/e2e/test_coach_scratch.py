from __future__ import annotations
from datetime import UTC, datetime, timedelta
from tests.e2e.harness import COACH, OTHER_COACH, RUNNER, running_bot

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

def dump(h, chat):
    for m in h.messages(chat):
        print(chat, m.message_id, repr(m.text or m.caption)[:300], m.buttons)

async def test_scratch(shipped_rules, db_url):
    async with running_bot(shipped_rules, db_url, START) as h:
        await h.say("/invite", user=COACH)
        dump(h, COACH)
        code = h.last(COACH).text.split("\n")[0].split(": ")[1]
        await h.say(f"/start {code}")
        await h.press("I agree")
        await h.press("Inner edge of the shin bone (posteromedial tibia)")
        await h.press("12 weeks ago")
        await h.press("Don't know")
        while "Are you" in h.last().text or "Can you" in h.last().text or "cleared you" in h.last().text:
            await h.press("Yes")
        for day in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat"):
            await h.press(day)
        await h.press("Done")
        await h.say("07:00")
        await h.say("Berlin")
        await h.press("Yes")
        await h.advance(timedelta(hours=23))
        await h.press("Done ✅", message=h.last_with_buttons())
        await h.press("0"); await h.press("3")
        await h.advance(timedelta(hours=24))
        dump(h, RUNNER)
        for i in range(10):
            m = h.last_with_buttons()
            labels = m.button_texts
            print("Q:", m.text, labels)
            if "wake you at night" in m.text:
                await h.press("Yes", message=m)
            elif "0" in labels:
                await h.press("0", message=m)
            elif "No" in labels:
                await h.press("No", message=m)
            else:
                break
            if "Thanks" in (h.last().text or ""):
                break
        await h.tick(); await h.dispatcher.join()
        dump(h, RUNNER)
        dump(h, COACH)
