"""The text of the search benchmark's messages: about a third Russian, the rest English,
drawn from a Zipf-like vocabulary, the same text on every run (a fixed seed).

Each language has a few hundred common words, listed by hand roughly by how often a
team chat uses them, with their forms (поиск, поиска, поиском; run, runs, running), so
that a prefix finds several words; then a long tail of made-up rarer words (syllables
with the language's endings, also in several forms). A word's weight is 1 / (rank + 2.7):
the first few words make a good part of every message, a tail word turns up a few
dozen times in a million messages. A message also carries, now and then, one of a few
two-word phrases, so that a "phrase" search has pairs that occur together.
"""

# ruff: noqa: RUF001 -- Russian letters are the point here

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass


def _split(text: str) -> list[str]:
    return text.split()


ENGLISH_COMMON = _split("""
the to and a i it is you of that in we for on this be have with not can will just so
do but are at me my what if all was they there get it's was up about out one now know
think new message messages go going good see need time here when some yes no ok thanks
work would should could like how more today please look get got make made right back
still want also then let them our us your from by an or as has had did done check
update search searching searched searches run running runs ran test tests testing tested
build builds building built release released releases meeting meetings deploy deployed
deploying deployment server servers database query queries page pages issue issues bug
bugs fix fixed fixes fixing review reviewed reviewing branch merge merged commit commits
tomorrow yesterday week friday monday morning lunch coffee team people sorry great nice
old work working worked works thought look looking looks call called send sent sending
checked checking updated updates change changes changed file files link links doc docs
document documents write wrote writing read reading help question questions answer
problem problems error errors log logs user users account password login email mail
phone chat chats group customer customers client clients price order orders invoice
payment plan plans project projects design feature features version versions notes
pull request requests code support results status birthday happy mode dark load
balancer unit suite due date stand call sure maybe again first last next after before
two three day days hour hours minute minutes thing things something anything everything
way said say says tell told ask asked asking try tried trying start started starting
finish finished end ended meet meeting office home remote late early soon later
""")

RUSSIAN_COMMON = _split("""
и в не на я что с а по это как то он но все так мы у к вы да нет же ты из за бы уже для
там вот если или только еще ещё тоже можно надо сейчас сегодня завтра вчера потом когда
где кто почему спасибо пожалуйста привет хорошо ладно давай давайте конечно сообщение
сообщения сообщений сообщением сообщении сообщениями поиск поиска поиску поиском поиске
поиски искать ищу нашел нашёл найти бывший бывшая бывшего бывшие бывшим встреча встречи
встречу встрече встречей релиз релиза релизе релизом сервер сервера сервере серверов база
базы базе данных данные запрос запроса запросы запросов страница страницы страницу ошибка
ошибки ошибку ошибок задача задачи задачу задач проект проекта проекте проекты команда
команды команде клиент клиента клиенты клиентов заказ заказа заказы счет счёт счета оплата
оплаты документ документа документы файл файла файлы ссылка ссылку ссылки письмо письма
почта почте почту телефон время времени день дня дней неделя неделе неделю утром вечером
пятница пятницу понедельник работа работы работу работе работает работают работал делать
сделать сделал сделали посмотреть посмотрю посмотрел проверить проверил проверка проверки
тест теста тесты тестов обновление обновления версия версии версию новый новая новое
новые старый старая вопрос вопроса вопросы ответ ответа ответил нужно нужен нужна хочу
могу может будет было был была есть знаю думаю понял поняла человек люди людей результаты
поддержки служба рабочий рождения днем днём номер отчет отчёт тема тёмная темная код
ревью чат чата чате группа группы пользователь пользователя пользователи пароль вход
""")

# Two-word phrases that turn up together (a "phrase" search looks for them).
ENGLISH_PHRASES = [
    "pull request", "release notes", "code review", "test suite", "status update",
    "due date", "happy birthday", "customer support", "error message", "search results",
    "dark mode", "load balancer", "unit tests", "stand up", "on call", "next week",
]  # fmt: skip
RUSSIAN_PHRASES = [
    "база данных", "базы данных", "рабочий день", "служба поддержки", "до завтра",
    "с днем рождения", "номер заказа", "результаты поиска", "новая версия", "тёмная тема",
    "код ревью", "на неделе", "в пятницу", "бывший клиент", "отчет за", "сообщение об ошибке",
]  # fmt: skip
PHRASE_SHARE = 0.12  # of messages that carry one phrase

ENGLISH_SYLLABLES = _split(
    "ba be bi bo bu da de di do du fa fe fi fo ga ge go ka ke ki ko la le li lo lu ma me "
    "mi mo mu na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu "
    "va ve vi vo za ze zo bran cor del fin gar hol mer nor pel quin ros sten tor val wen"
)
ENGLISH_ENDINGS = ("", "s", "ing", "ed")
RUSSIAN_SYLLABLES = _split(
    "ба бе би бо бу ва ве ви во ву га го гу да де ди до ду жа же за зе зо ка ке ки ко ку "
    "ла ле ли ло лу ма ме ми мо му на не ни но ну па пе пи по пу ра ре ри ро ру са се си "
    "со су та те ти то ту фа хо ца ча че чи ша ше бра вер гор дол жен зан крас лен мир "
    "нов пол рад слав стр тел хран"
)
RUSSIAN_ENDINGS = ("", "а", "ом", "е", "ы", "ов")
TAIL_STEMS = 12_000  # made-up stems per language, each in all the language's endings

WORDS_MIN, WORDS_MAX = 5, 30


def _tail(rng: random.Random, syllables, endings, known: set[str]) -> list[str]:
    """Made-up words: stems of 2-4 syllables, each stem in every ending, stems shuffled."""
    stems: list[str] = []
    seen = set(known)
    while len(stems) < TAIL_STEMS:
        stem = "".join(rng.choices(syllables, k=rng.choice((2, 3, 3, 4))))
        if stem not in seen:
            seen.add(stem)
            stems.append(stem)
    return [stem + ending for stem in stems for ending in endings]


@dataclass
class Language:
    name: str
    words: list[str]  # by rank
    cum_weights: list[float]
    phrases: list[str]
    phrase_weights: list[float]

    def sentence(self, rng: random.Random, count: int) -> str:
        picked = rng.choices(self.words, cum_weights=self.cum_weights, k=count)
        if rng.random() < PHRASE_SHARE and count > 2:
            phrase = rng.choices(self.phrases, weights=self.phrase_weights)[0]
            at = rng.randrange(count - 1)
            picked[at : at + 2] = phrase.split()
        # Punctuation and capitals, as people write; neither index keeps them.
        text = " ".join(picked)
        if rng.random() < 0.3:
            cut = text.find(" ", len(text) // 2)
            if cut > 0:
                text = text[:cut] + "," + text[cut:]
        return text[:1].upper() + text[1:] + rng.choice((".", ".", "", "!", "?"))


def _language(name: str, common: list[str], tail: list[str], phrases: list[str]) -> Language:
    words = list(dict.fromkeys(common)) + tail
    weights = [1 / (rank + 2.7) for rank in range(len(words))]
    phrase_weights = [1 / (rank + 3) for rank in range(len(phrases))]
    return Language(name, words, list(itertools.accumulate(weights)), phrases, phrase_weights)


VOCABULARY_SEED = 18


class Corpus:
    """Message bodies, the same ones for the same seed (the vocabulary is always the
    same: a corpus of another seed writes other messages with the same words)."""

    def __init__(self, seed: int = 18) -> None:
        vocabulary = random.Random(VOCABULARY_SEED)
        english_tail = _tail(vocabulary, ENGLISH_SYLLABLES, ENGLISH_ENDINGS, set(ENGLISH_COMMON))
        russian_tail = _tail(vocabulary, RUSSIAN_SYLLABLES, RUSSIAN_ENDINGS, set(RUSSIAN_COMMON))
        self.english = _language("English", ENGLISH_COMMON, english_tail, ENGLISH_PHRASES)
        self.russian = _language("Russian", RUSSIAN_COMMON, russian_tail, RUSSIAN_PHRASES)
        self.rng = random.Random(seed)

    def body(self, russian: bool) -> str:
        """One message of 5-30 words (short ones more often, as people write)."""
        rng = self.rng
        count = min(WORDS_MAX, WORDS_MIN + int(rng.expovariate(1 / 7)))
        language = self.russian if russian else self.english
        if count > 14 and rng.random() < 0.5:  # two sentences
            first = rng.randint(WORDS_MIN // 2, count - 3)
            return language.sentence(rng, first) + " " + language.sentence(rng, count - first)
        return language.sentence(rng, count)
