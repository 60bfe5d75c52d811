"""Which PostgreSQL text search configuration finds what people look for: recall and
precision of three ways to search a sample of Russian and English chat messages.

    .venv/bin/python -m bench.search_recall [--postgres URL]

- **simple + prefix** (what vibechat does, migration 0006 and vibechat/search.py): the
  generated column's `to_tsvector('simple', …)` and `to_tsquery('simple',
  search.tsquery(search.parse(typed)))`, every word a prefix.
- **russian**: `to_tsvector('russian', …)` and `websearch_to_tsquery('russian', typed)`
  (Snowball stemming: Russian words by the Russian stemmer, Latin ones by the English).
- **english**: the same with `english`.
- **russian + prefix**: for comparison, not a choice open to vibechat today (SQLite's
  FTS5 has no Russian stemmer, so the two engines would find different messages): the
  `russian` vector and our own prefix query, `to_tsquery('russian', …)`, which stems
  each word before matching it as a prefix.

The body goes through the same clean-up in all three (punctuation made a space, «ё»
read as «е», as the generated column does), so only the configuration and the query
differ. What counts as relevant is written by hand, not by any of the three: a query
wants the messages that hold a form of each of its words' lemmas (LEMMAS, every form
listed), as a person who types «поиска» or "running" wants «поиском» or "ran" too; a
quoted phrase wants the phrase in any of its forms. Some messages are traps: a word
that shares a beginning or a stem but not a meaning («ошибочно», «заказчик»,
"password", "runner", "testimonials"). Runs on literal values: no table is made.
"""

# ruff: noqa: RUF001, RUF002, RUF003 -- Russian letters are the point here

from __future__ import annotations

import argparse
import asyncio
import os

import asyncpg
from sqlalchemy.engine import make_url

from vibechat import search

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"

RUSSIAN = [
    "Поиск по чату опять не работает.",
    "Нашла через поиск, спасибо!",
    "Поиска по вложениям пока нет.",
    "С поиском стало гораздо удобнее.",
    "В поиске не видно старых сообщений.",
    "Поиски ключей заняли всё утро.",
    "Надо искать в архиве, там точно есть.",
    "Бывший клиент снова написал.",
    "Это бывшая переговорка на третьем этаже.",
    "Спроси у бывшего руководителя проекта.",
    "Бывшие сотрудники всё ещё в чате.",
    "Он был в офисе вчера.",
    "Завтра будет созвон в десять.",
    "Было бы хорошо закончить к пятнице.",
    "Сообщение не отправилось, попробуй ещё раз.",
    "Пришли мне сообщением номер заказа.",
    "Три сообщения пропали после обновления.",
    "Сообщений стало слишком много.",
    "Сообщу, когда всё будет готово.",
    "Ошибка при входе в систему.",
    "Ошибки в логах с самого утра.",
    "Поправил ошибку в отчёте.",
    "Ошибочно отправил не тот файл.",
    "Ошибка сервера, всё лежит.",
    "На сервере закончилось место.",
    "Перезапустил оба сервера.",
    "Встреча переносится на четверг.",
    "После встречи пришлю заметки.",
    "Встречный вопрос: кто отвечает за релиз?",
    "Давай перенесём встречу на утро.",
    "Новый заказ от постоянного клиента.",
    "Заказчик просит скидку.",
    "Заказы за неделю выгружены.",
    "База данных растёт слишком быстро.",
    "Сделай бэкап базы данных перед миграцией.",
    "Это база знаний, а не данных.",
    "Ёлка в офисе уже стоит.",
    "Купим елку в пятницу?",
    "Клиенты жалуются на скорость.",
    "Клиентский портал обновили.",
]

ENGLISH = [
    "Can you run the migrations again?",
    "The job runs every night at two.",
    "Tests are running on the new branch.",
    "I ran it twice and got the same error.",
    "Our runner image is out of date.",
    "Planes were stuck on the runway for an hour.",
    "Search is slow on big chats.",
    "I searched the archive but found nothing.",
    "Searching by author would help.",
    "Two searches timed out this morning.",
    "Our research team wants access.",
    "Your message was cut off.",
    "Messages arrive twice on the phone.",
    "Sorry for the mess in the kitchen.",
    "The messenger app crashed again.",
    "We deploy on Fridays only with approval.",
    "Deployed the fix to staging.",
    "Deploying now, please hold merges.",
    "The deployment failed on the last step.",
    "Added a test for the login page.",
    "All tests pass now.",
    "Testing takes too long on CI.",
    "Tested it on Firefox too.",
    "Customer testimonials are on the landing page.",
    "Did the build pass?",
    "She passed the exam!",
    "Reset your password from the login page.",
    "Passing the ball to you for the review.",
    "The meeting moved to 3 pm.",
    "Two meetings today, then I'm free.",
    "Let's meet at the café.",
    "Open a pull request when ready.",
    "Two pull requests need a review.",
    "Pull the latest changes, the request was merged.",
    "Please review my branch before lunch.",
    "Reviewed both branches, looks good.",
    "The invoice for March is attached.",
    "Invoices go out on the first of the month.",
    "Who invoiced the client twice?",
    "Lunch at noon, anyone?",
]

# Every form of each lemma a query asks for (folded: lower case, «ё» as «е»), separated
# by spaces; the words of a phrase's form are joined by "_".
_FORMS = {
    "поиск": "поиск поиска поиску поиском поиске поиски поисков поискам поисками поисках",
    "бывший": "бывший бывшая бывшее бывшие бывшего бывшей бывшему бывшим бывшую бывших "
    "бывшими бывшем",
    "быть": "быть был была было были будет буду будем будете будут будь",
    "сообщение": "сообщение сообщения сообщению сообщением сообщении сообщений "
    "сообщениям сообщениями сообщениях",
    "ошибка": "ошибка ошибки ошибке ошибку ошибкой ошибок ошибкам ошибками ошибках",
    "сервер": "сервер сервера серверу сервером сервере серверы серверов серверам "
    "серверами серверах",
    "встреча": "встреча встречи встрече встречу встречей встреч встречам встречами встречах",
    "заказ": "заказ заказа заказу заказом заказе заказы заказов заказам заказами заказах",
    "база данных": "база_данных базы_данных базе_данных базу_данных базой_данных",
    "ёлка": "елка елки елке елку елкой елок",
    "клиент": "клиент клиента клиенту клиентом клиенте клиенты клиентов клиентам "
    "клиентами клиентах",
    "run": "run runs running ran",
    "search": "search searches searched searching",
    "message": "message messages",
    "deploy": "deploy deploys deployed deploying deployment deployments",
    "test": "test tests tested testing",
    "pass": "pass passes passed passing",
    "meeting": "meeting meetings",
    "pull request": "pull_request pull_requests",
    "review": "review reviews reviewed reviewing",
    "branch": "branch branches",
    "invoice": "invoice invoices invoiced invoicing",
}
LEMMAS = {lemma: forms.split() for lemma, forms in _FORMS.items()}

# What people type, and the lemmas whose forms they want (all of them).
QUERIES: list[tuple[str, tuple[str, ...]]] = [
    ("поиск", ("поиск",)),
    ("поиска", ("поиск",)),
    ("поис", ("поиск",)),
    ("бывший", ("бывший",)),
    ("бывш", ("бывший",)),
    ("был", ("быть",)),
    ("сообщение", ("сообщение",)),
    ("сообщ", ("сообщение",)),
    ("ошибка", ("ошибка",)),
    ("ошиб", ("ошибка",)),
    ("встреча", ("встреча",)),
    ("заказ", ("заказ",)),
    ('"база данных"', ("база данных",)),
    ("ошибка сервера", ("ошибка", "сервер")),
    ("ёлка", ("ёлка",)),
    ("клиенты", ("клиент",)),
    ("run", ("run",)),
    ("running", ("run",)),
    ("search", ("search",)),
    ("searching", ("search",)),
    ("sear", ("search",)),
    ("message", ("message",)),
    ("messa", ("message",)),
    ("deploy", ("deploy",)),
    ("deployment", ("deploy",)),
    ("test", ("test",)),
    ("pass", ("pass",)),
    ("meeting", ("meeting",)),
    ('"pull request"', ("pull request",)),
    ("review branch", ("review", "branch")),
    ("invoices", ("invoice",)),
]

# The body as the generated column cleans it (migration 0006), then each way's match.
_CLEAN = "translate(regexp_replace(m.body, '[^[:alnum:]]+', ' ', 'g'), 'Ёё', 'Ее')"
_MATCHING = """
SELECT array_agg(m.n ORDER BY m.n) FROM unnest($1::text[]) WITH ORDINALITY AS m(body, n)
WHERE to_tsvector('{config}'::regconfig, {clean}) @@ {query}
"""
WAYS = {
    "simple + prefix (ours)": ("simple", "to_tsquery('simple', $2)"),
    "russian": ("russian", "websearch_to_tsquery('russian', translate($2, 'Ёё', 'Ее'))"),
    "english": ("english", "websearch_to_tsquery('english', translate($2, 'Ёё', 'Ее'))"),
    "russian + prefix": ("russian", "to_tsquery('russian', $2)"),
}


def has_lemma(words: list[str], lemma: str) -> bool:
    for form in LEMMAS[lemma]:
        wanted = form.split("_")
        if any(words[n : n + len(wanted)] == wanted for n in range(len(words))):
            return True
    return False


def relevant(messages: list[str], lemmas: tuple[str, ...]) -> set[int]:
    """The messages (numbered from 1) that hold a form of every lemma."""
    found = set()
    for n, body in enumerate(messages, 1):
        words = search.words(body)
        if all(has_lemma(words, lemma) for lemma in lemmas):
            found.add(n)
    return found


async def matched(connection, messages: list[str], way: str, typed: str) -> set[int]:
    config, query = WAYS[way]
    argument = typed
    if "prefix" in way:
        parsed = search.parse(typed)
        if not parsed.terms:
            return set()
        argument = search.tsquery(parsed)
    statement = _MATCHING.format(config=config, clean=_CLEAN, query=query)
    return set(await connection.fetchval(statement, messages, argument) or [])


async def measure(postgres: str) -> list[dict]:
    """Per query: the relevant messages and what each way found."""
    dsn = make_url(postgres).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    rows = []
    try:
        for typed, lemmas in QUERIES:
            language = "Russian" if any("а" <= c <= "я" for c in typed.lower()) else "English"
            messages = RUSSIAN if language == "Russian" else ENGLISH
            row = {"typed": typed, "language": language, "relevant": relevant(messages, lemmas)}
            for way in WAYS:
                row[way] = await matched(connection, messages, way, typed)
            rows.append(row)
    finally:
        await connection.close()
    return rows


def _ratio(part: int, whole: int) -> str:
    return f"{part / whole:.2f}" if whole else "-"


def tables(rows: list[dict]) -> str:
    lines = [
        "Each cell: relevant messages found / relevant in the sample, then + wrongly found.",
        "",
        "| query | language | relevant | " + " | ".join(WAYS) + " |",
        "| --- | --- | ---: | " + " | ".join("---:" for _ in WAYS) + " |",
    ]
    for row in rows:
        cells = []
        for way in WAYS:
            right = len(row[way] & row["relevant"])
            wrong = len(row[way] - row["relevant"])
            cells.append(f"{right}/{len(row['relevant'])}" + (f" +{wrong}" if wrong else ""))
        lines.append(
            f"| {row['typed']} | {row['language']} | {len(row['relevant'])} | "
            + " | ".join(cells)
            + " |"
        )
    lines += [
        "",
        "Recall: relevant found / relevant; precision: relevant found / found (over all "
        "queries of the language); whole: queries that found every relevant message.",
        "",
        "| way | language | recall | precision | whole | found nothing |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for way in WAYS:
        for language in ("Russian", "English", "both"):
            chosen = [r for r in rows if language in (r["language"], "both")]
            right = sum(len(r[way] & r["relevant"]) for r in chosen)
            found = sum(len(r[way]) for r in chosen)
            wanted = sum(len(r["relevant"]) for r in chosen)
            whole = sum(1 for r in chosen if r["relevant"] <= r[way])
            empty = sum(1 for r in chosen if r["relevant"] and not r[way])
            lines.append(
                f"| {way} | {language} | {_ratio(right, wanted)} | {_ratio(right, found)} | "
                f"{whole} of {len(chosen)} | {empty} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres",
        default=os.environ.get("VIBECHAT_BENCH_POSTGRES_URL", DEFAULT_POSTGRES),
        help="a PostgreSQL server (nothing is written to it)",
    )
    args = parser.parse_args()
    rows = asyncio.run(measure(args.postgres))
    print(
        f"Search recall: {len(RUSSIAN)} Russian and {len(ENGLISH)} English messages, "
        f"{len(QUERIES)} queries\n"
    )
    print(tables(rows))


if __name__ == "__main__":
    main()
