"""Normalisation, language detection, stop words, stemming and the TF-IDF features."""

import numpy as np

from matcher.text import TextVectorizer, detect_language, normalise, split_passages, tokenize


def test_normalise_folds_case_and_accents():
    assert normalise("Educación PÚBLICA Ñandú") == "educacion publica nandu"
    assert normalise("ﬁnance") == "finance"  # compatibility ligature


def test_tokenize_drops_single_letters():
    assert tokenize("A project, y el año 2030!") == ["project", "el", "ano", "2030"]


def test_detect_language_both_languages():
    assert detect_language("The project will support the city with water") == "en"
    assert detect_language("El proyecto apoya a la ciudad con el agua de las familias") == "es"
    assert detect_language("") == "en"


def test_split_passages_keeps_non_empty_lines():
    assert split_passages("one\n\n two \n") == ["one", "two"]
    assert split_passages("") == [""]


def _fit(glossary=None):
    vec = TextVectorizer(
        concepts=list(glossary.concepts) if glossary else [],
        phrases=glossary.phrases if glossary else [],
    )
    docs = [
        ["Los niños de las escuelas"],
        ["Children in schools and the school"],
        ["Movilidad sostenible"],
    ]
    titles = ["Escuelas", "Schools", "Movilidad"]
    langs = ["es", "en", "es"]
    vec.fit(docs, titles, langs)
    return vec, docs, titles, langs


def test_stop_words_removed_and_stems_shared():
    vec, docs, titles, langs = _fit()
    rows, _, _ = vec.transform(docs, titles, langs)
    names = {vec.feature_name(i) for i in rows[1].indices}
    assert "the" not in names and "and" not in names
    # english stemmer: school / schools -> one feature
    assert sum(n.startswith("school") for n in names if " " not in n) == 1
    assert "las" not in {vec.feature_name(i) for i in rows[0].indices}


def test_rows_are_l2_normalised_float32():
    vec, docs, titles, langs = _fit()
    rows, _, _ = vec.transform(docs, titles, langs)
    assert rows.dtype == np.float32
    norms = np.sqrt(rows.multiply(rows).sum(axis=1)).A.ravel()
    assert np.allclose(norms, 1.0, atol=1e-5)


def test_glossary_concepts_bridge_languages(glossary):
    vec = TextVectorizer(concepts=list(glossary.concepts), phrases=glossary.phrases)
    docs = [
        ["agua potable para el acueducto"],
        ["drinking water supply for towns"],
        ["bicycle lanes"],
    ]
    titles, langs = ["", "", ""], ["es", "en", "en"]
    vec.fit(docs, titles, langs)
    rows, _, _ = vec.transform(docs, titles, langs)
    sim = (rows @ rows.T).toarray()
    assert sim[0, 1] > 0.3
    assert sim[0, 2] == 0.0
    shared = set(rows[0].indices) & set(rows[1].indices)
    assert {vec.feature_name(i) for i in shared} == {"drinking_water"}


def test_unknown_words_ignored_after_fit():
    vec, docs, titles, langs = _fit()
    rows, _, _ = vec.transform([["zzzz qqqq"]], [""], ["en"])
    assert rows.nnz == 0


def test_passage_rows_for_multi_passage_documents():
    vec, _, _, _ = _fit()
    rows, passages, owners = vec.transform(
        [["schools", "movilidad"], ["schools"]], ["", ""], ["en", "es"], passages=True
    )
    assert passages.shape[0] == 2
    assert owners.tolist() == [0, 0]


def test_a_text_filed_in_the_wrong_language_is_read_in_its_own():
    vec, _, _, _ = _fit()
    text = [["The children in the schools and the school of the city"]]
    as_en, _, _ = vec.transform(text, [""], ["en"])
    as_es, _, _ = vec.transform(text, [""], ["es"])  # the form's language left at Spanish
    assert (as_en != as_es).nnz == 0
    names = {vec.feature_name(i) for i in as_es[0].indices}
    assert sum(n.startswith("school") for n in names if " " not in n) == 1


def test_languages_of_units_given_detected_and_corrected():
    vec, _, _, _ = _fit()
    units = vec._units(
        [
            "The children of the city and the schools",
            "Escuelas",
            "Los niños de las escuelas y la ciudad",
            "The schools of the region and the city",
            "Les enfants et les écoles de la ville",
            "schools",
        ],
        ["es", "es", None, None, "ar", None],
        grow=False,
        groups=np.array([0, 1, 2, 2, 3, 4]),
    )
    # clear English stop words overrule "es"; a two-word title keeps what it was given; a record
    # without a language is detected as a whole, then each passage read in its own; a code we
    # have no stop words for yields to clear French; no evidence at all falls back to English
    assert units.langs == ["en", "es", "es", "en", "fr", "en"]
