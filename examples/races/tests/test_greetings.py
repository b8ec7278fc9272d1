"""The greeting is the caller's: passes alone, fails when threads share the scratch buffer on 3.14t."""

from races import greetings


def test_each_caller_gets_its_own_greeting() -> None:
    for number in range(40):
        name = f"guest-{number}"
        assert greetings.greeting(name) == f"Hello, {name}!"


def test_the_page_holds_the_filler() -> None:
    assert greetings.render("Ada").endswith(greetings.FILLER)
