"""The bookshop's endpoints called as functions: what each answers, alone or from several threads at once."""

from __future__ import annotations

import asyncio

import pytest
import yaml
from fastapi import HTTPException

from bookshop import catalog, main


def test_search_ranks_the_closest_titles_first() -> None:
    hits = main.search("lost library", limit=10)
    assert len(hits) == 10
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert "Lost" in hits[0].title or "Library" in hits[0].title


def test_similar_books_share_tags_and_exclude_the_book_itself() -> None:
    ids = main.similar(42, limit=10)
    anchor = catalog.book(42)
    assert anchor is not None and len(ids) == 10 and 42 not in ids
    assert all(catalog.book(i).tags & anchor.tags for i in ids)  # type: ignore[union-attr]


def test_an_unknown_book_is_404() -> None:
    with pytest.raises(HTTPException) as error:
        main.similar(catalog.BOOKS + 1)
    assert error.value.status_code == 404


def test_the_export_is_yaml_of_the_first_books() -> None:
    rows = yaml.safe_load(main.export(count=5))
    assert [row["id"] for row in rows] == [1, 2, 3, 4, 5]
    assert rows[0]["title"] == catalog.books()[0].title


def test_a_quote_applies_the_coupon() -> None:
    cart = main.Cart(lines=[main.CartLine(book_id=1, quantity=2)], coupon="READMORE")
    quote = asyncio.run(main.quote(cart))
    price = catalog.book(1).price_cents  # type: ignore[union-attr]
    assert quote.items == 2 and quote.subtotal_cents == 2 * price
    assert quote.discount_cents >= 2 * price // 10
    assert quote.total_cents == quote.subtotal_cents - quote.discount_cents
