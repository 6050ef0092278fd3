"""spiders.sanitize: allow-list HTML cleaning and HTML-to-text."""

from __future__ import annotations

import re

import lxml.html
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import spiders.sanitize as sanitize_module
from spiders.sanitize import html_to_text, sanitize_html, sanitize_with_text
from tests.test_security import ATTR, JS_URL, NASTY, SCRIPT, SHORT, TEMPLATE, audit_html

BASE = "https://www.wwlp.com/news/state-politics/some-story/"


class TestSanitize:
    def test_keeps_allowed_markup(self):
        html = ('<h2>Heading</h2><p>A <em>test</em> with <strong>bold</strong><br>line</p>'
                '<ul><li>one</li></ul><ol><li>two</li></ol><blockquote><p>quoted test</p></blockquote>')
        assert sanitize_html(html) == html

    def test_b_and_i_become_strong_and_em(self):
        assert sanitize_html("<p><b>x</b> <i>y</i></p>") == "<p><strong>x</strong> <em>y</em></p>"

    def test_dangerous_elements_removed_with_content(self):
        html = ("<p>keep</p><script>alert(1)</script><style>p{}</style><iframe src='https://x.test/'>f</iframe>"
                "<object data='x'>o</object><embed src='x.swf'><form action='/x'><input name='q'>form text</form>"
                "<p>after</p>")
        assert sanitize_html(html) == "<p>keep</p><p>after</p>"

    def test_attributes_dropped(self):
        html = '<p onclick="x()" style="color:red" class="c" id="i">t <a href="https://a.test/" onmouseover="y" title="t" target="_blank">l</a></p>'
        assert sanitize_html(html) == '<p>t <a href="https://a.test/">l</a></p>'

    @pytest.mark.parametrize("href", [
        "javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
        "java\nscript:alert(1)", "vbscript:msgbox(1)", "data:text/html,<script>alert(1)</script>",
        "&#106;avascript:alert(1)",
    ])
    def test_script_urls_removed(self, href):
        out = sanitize_html(f'<p><a href="{href}">click</a></p>', BASE)
        assert out == "<p>click</p>"

    def test_relative_links_made_absolute(self):
        html = '<p><a href="/news/">news</a> <a href="../other/">up</a> <a href="//cdn.test/x">proto</a></p>'
        assert sanitize_html(html, BASE) == (
            '<p><a href="https://www.wwlp.com/news/">news</a> '
            '<a href="https://www.wwlp.com/news/state-politics/other/">up</a> '
            '<a href="https://cdn.test/x">proto</a></p>'
        )

    def test_relative_links_kept_without_base(self):
        assert sanitize_html('<a href="/news/">n</a>') == '<a href="/news/">n</a>'

    def test_mailto_kept(self):
        assert sanitize_html('<a href="mailto:desk@example.com">mail</a>') == '<a href="mailto:desk@example.com">mail</a>'

    def test_images(self):
        html = ('<p><img src="/wp-content/uploads/sites/26/a.jpg" alt="A test" width="600" height="400" '
                'onerror="x()" srcset="a 1x" style="border:0"></p>')
        assert sanitize_html(html, BASE) == (
            '<p><img src="https://www.wwlp.com/wp-content/uploads/sites/26/a.jpg" alt="A test"></p>')

    @pytest.mark.parametrize("img", [
        '<img src="https://www.example.com/p.gif" width="1" height="1">',
        '<img src="https://www.example.com/p.gif" width="0" height="0">',
        '<img src="https://www.example.com/p.gif" height="1px">',
        '<img src="https://www.example.com/p.gif" style="width:1px;height:1px">',
        '<img src="http://feeds.feedburner.com/~r/SomeFeed/~4/abcdef">',
        '<img src="https://pixel.wp.com/b.gif?host=www.wwlp.com&blog=1">',
        '<img src="https://stats.wp.com/g.gif?v=1">',
        '<img src="javascript:alert(1)">',
        '<img alt="no source">',
    ])
    def test_tracking_pixels_and_bad_images_removed(self, img):
        assert sanitize_html(f"<p>text{img}</p>") == "<p>text</p>"

    def test_lazy_loaded_image_uses_data_src(self):
        html = '<img src="data:image/gif;base64,R0lGOD" data-src="https://www.example.com/real.jpg" alt="x">'
        assert sanitize_html(html) == '<img src="https://www.example.com/real.jpg" alt="x">'

    def test_feedburner_share_link_with_pixel_disappears(self):
        html = ('<p>Story.</p><a href="http://feeds.feedburner.com/~ff/Feed?a=x">'
                '<img src="http://feeds.feedburner.com/~ff/Feed?d=y" border="0"></a>')
        assert sanitize_html(html) == "<p>Story.</p>"

    def test_unknown_elements_unwrapped_and_leaf_blocks_become_paragraphs(self):
        html = '<div class="x"><span>one</span></div><div>two <font color="red">three</font></div><section><p>four</p></section>'
        out = sanitize_html(html)
        assert "<div" not in out and "<span" not in out and "<font" not in out and "<section" not in out
        assert out.startswith("<p>") and "<p>four</p>" in out
        assert html_to_text(out) == "one\ntwo three\nfour"

    def test_comments_removed_and_entities_kept_escaped(self):
        assert sanitize_html("<!-- hidden --><p>AT&amp;T &lt;b&gt;</p>") == "<p>AT&amp;T &lt;b&gt;</p>"

    @pytest.mark.parametrize("garbage", [None, 123, "", "   ", "\x00\x01\x02", "</p></div>", "<!-- only a comment -->"])
    def test_garbage_gives_empty_string(self, garbage):
        assert sanitize_html(garbage) == ""  # type: ignore[arg-type]

    def test_bytes_are_read_as_utf8(self):
        assert sanitize_html("<p>R\u00e9cognition</p>".encode()) == "<p>R\u00e9cognition</p>"  # type: ignore[arg-type]

    def test_angle_bracket_soup_is_escaped_text(self):
        assert sanitize_html("a <<< b >>> & c") == "a &lt;&lt;&lt; b &gt;&gt;&gt; &amp; c"

    def test_void_element_swallowing_text(self):
        # libxml2 nests what follows <embed> inside it; the text must survive.
        assert sanitize_html("<embed src=x>tail<p>more</p>") == "tail<p>more</p>"

    def test_sanitize_with_text(self):
        assert sanitize_with_text('<p>a <script>x</script><a href="/b">b</a></p>', "https://e.test/") == (
            '<p>a <a href="https://e.test/b">b</a></p>', "a b")


class TestHtmlToText:
    def test_blocks_become_lines_and_whitespace_folds(self):
        html = "<h1>Title</h1>\n<p>First\n   paragraph,\twrapped.</p><ul><li>one</li><li>two<br>three</li></ul>"
        assert html_to_text(html) == "Title\nFirst paragraph, wrapped.\none\ntwo\nthree"

    def test_entities_decoded(self):
        assert html_to_text("<p>Lawmakers&#8217; &ldquo;test&rdquo; &amp; more&nbsp;text&hellip;</p>") == (
            "Lawmakers\u2019 \u201ctest\u201d & more text\u2026")

    def test_inline_elements_do_not_split_words(self):
        assert html_to_text("<p>face<em>-</em>surveillance <a href='x'>bill</a>s</p>") == "face-surveillance bills"

    def test_scripts_styles_and_forms_dropped(self):
        assert html_to_text("<p>a</p><script>var x;</script><style>p{}</style><noscript>n</noscript><p>b</p>") == "a\nb"

    def test_plain_text_passes_through(self):
        assert html_to_text("Plain & simple < text") == "Plain & simple < text"
        assert html_to_text("<") == "<"

    def test_full_page(self):
        page = "<html><head><title>Page title</title></head><body><div>Body <b>text</b></div></body></html>"
        assert html_to_text(page) == "Body text"

    @pytest.mark.parametrize("garbage", [None, 3.5, "", " \n ", "\x00", "<p></p>", "<script>only()</script>"])
    def test_garbage(self, garbage):
        assert html_to_text(garbage) == ""  # type: ignore[arg-type]


# -- nh3 (ammonia) is the final gate -------------------------------------------------------------------------

ALLOWED_TAGS = {"p", "br", "a", "em", "strong", "ul", "ol", "li", "blockquote", "img", "h1", "h2", "h3", "h4", "h5",
                "h6"}
ALLOWED_ATTRS = {"a": {"href"}, "img": {"src", "alt"}}

# Elements outside the allow-list: the ones the structural pass removes with their content, the ones it unwraps,
# renames or turns into paragraphs, and ones it has never heard of.
OUTSIDE = ["script", "style", "iframe", "frame", "object", "embed", "applet", "form", "input", "button", "select",
           "textarea", "noscript", "template", "svg", "math", "canvas", "audio", "video", "source", "link", "meta",
           "base", "param", "map", "area", "dialog", "title", "div", "span", "section", "article", "table", "td",
           "font", "b", "i", "u", "s", "code", "pre", "figure", "figcaption", "marquee", "blink", "details",
           "x-widget", "custom-element"]

# Classic XSS vectors (written for these tests), besides the security tests' own payloads.
VECTORS = [
    '<img src=x onerror=alert(1)>', '<svg onload=alert(1)>', '<body onload=alert(1)>', '<p style="x:expression(alert(1))">p</p>',
    '<a href="javascript:alert(1)">j</a>', '<a href="  JaVaScRiPt:alert(1)">j</a>', '<a href="java&#x09;script:alert(1)">j</a>',
    '<a href="&#x6A;avascript:alert(1)">j</a>', '<a href="vbscript:msgbox(1)">v</a>', '<a href="data:text/html,<script>1</script>">d</a>',
    '<img src="data:image/svg+xml,<svg onload=alert(1)>">', '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<math><mi xlink:href="javascript:alert(1)">m</mi></math>', '<svg><a xlink:href="javascript:alert(1)"><text>t</text></a></svg>',
    '<object data="javascript:alert(1)"></object>', '<embed src="javascript:alert(1)">', '<form action="javascript:alert(1)"><button>b</button></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">', '<base href="javascript:alert(1)//">',
    '<<script>script>alert(1)<</script>/script>', '<scr<script>ipt>alert(1)</scr</script>ipt>', '<!--><script>alert(1)</script>-->',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>', '<style><img src=x onerror=alert(1)></style>',
    '<textarea><img src=x onerror=alert(1)></textarea>', '<a href="https://ok.test/" onmouseover="alert(1)">o</a>',
    '<img src="https://ok.test/a.jpg" onerror="alert(1)" alt="a">', '<p><a href="https://ok.test/"><img src="javascript:alert(1)"></a></p>',
]


def _gate_only(monkeypatch):
    """Turn the structural pass off: the parsed input is serialised as it came, and only nh3 stands between it
    and the output. Whatever the pass might miss, the gate must still hold."""
    monkeypatch.setattr(sanitize_module, "_clean_tree", lambda root, base_url: None)


def _check_allow_list(html: str) -> None:
    if not html:
        return
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    for el in root.iterdescendants():
        assert isinstance(el.tag, str), ("comment or processing instruction", html)
        assert el.tag in ALLOWED_TAGS, (el.tag, html)
        assert set(el.attrib) <= ALLOWED_ATTRS.get(el.tag, set()), (el.tag, dict(el.attrib), html)
        for attr, schemes in (("href", ("http", "https", "mailto")), ("src", ("http", "https"))):
            value = el.get(attr)
            if value is not None:
                scheme = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*):", re.sub(r"[\x00-\x20\x7f]+", "", value))
                assert scheme is None or scheme.group(1).lower() in schemes, (attr, value, html)


class TestNh3Gate:
    @pytest.mark.parametrize("tag", OUTSIDE)
    def test_an_element_outside_the_allow_list_never_survives_the_gate(self, monkeypatch, tag):
        _gate_only(monkeypatch)
        html = (f'<p>before</p><{tag} onclick="alert(1)" style="color:red" title="t" href="javascript:alert(1)" '
                f'src="javascript:alert(2)">inside</{tag}><p>after</p>')
        out = sanitize_html(html, BASE)
        _check_allow_list(out)
        assert f"<{tag}" not in out and "alert" not in out and "<p>before</p>" in out and "<p>after</p>" in out

    def test_content_of_dangerous_elements_goes_with_them_at_the_gate(self, monkeypatch):
        _gate_only(monkeypatch)
        out = sanitize_html("<p>a</p><script>var secret=1</script><style>p{color:red}</style>"
                            "<iframe>frame text</iframe><noscript>ns</noscript><p>b</p>")
        assert out == "<p>a</p><p>b</p>"

    def test_no_attribute_but_href_and_src_alt_passes_the_gate(self, monkeypatch):
        # ammonia's defaults keep title and lang on every element and add rel="noopener noreferrer" to links
        _gate_only(monkeypatch)
        out = sanitize_html('<p title="t" lang="en" dir="ltr" class="c" id="i">x <a href="https://a.test/" '
                            'title="t" rel="nofollow" target="_blank">l</a> <img src="https://a.test/i.jpg" alt="a" '
                            'title="t" width="5" srcset="https://a.test/j.jpg 2x"></p>')
        assert out == '<p>x <a href="https://a.test/">l</a> <img src="https://a.test/i.jpg" alt="a"></p>'

    @pytest.mark.parametrize("src", ["mailto:desk@example.com", "javascript:alert(1)", "data:image/gif;base64,R0lGOD",
                                     "ftp://files.test/a.gif", "JavaScript:alert(1)"])
    def test_an_image_source_must_be_http_at_the_gate(self, monkeypatch, src):
        _gate_only(monkeypatch)
        out = sanitize_html(f'<p>t<img src="{src}" alt="a"></p>')
        _check_allow_list(out)
        assert "src=" not in out

    @pytest.mark.parametrize("href", ["ftp://files.test/a", "javascript:alert(1)", "tel:+15555550100", "file:///etc/passwd"])
    def test_a_link_scheme_outside_the_list_is_dropped_at_the_gate(self, monkeypatch, href):
        _gate_only(monkeypatch)
        out = sanitize_html(f'<p><a href="{href}">l</a></p>')
        assert out == "<p><a>l</a></p>"

    def test_the_allowed_markup_passes_the_gate_untouched(self, monkeypatch):
        _gate_only(monkeypatch)
        html = ('<h1>1</h1><h2>2</h2><h3>3</h3><h4>4</h4><h5>5</h5><h6>6</h6><p>A <em>b</em> <strong>c</strong><br>'
                'd <a href="https://a.test/x?y=1&amp;z=2">e</a> <a href="mailto:desk@example.com">f</a> '
                '<a href="/relative/">g</a> <img src="https://a.test/i.jpg" alt="i"></p>'
                '<ul><li>u</li></ul><ol><li>o</li></ol><blockquote><p>q</p></blockquote>')
        assert sanitize_html(html) == html

    @pytest.mark.parametrize("vector", VECTORS)
    @pytest.mark.parametrize("gate_only", [False, True], ids=["pass+gate", "gate only"])
    def test_xss_vectors(self, monkeypatch, vector, gate_only):
        if gate_only:
            _gate_only(monkeypatch)
        out = sanitize_html(f"<p>text</p>{vector}<p>more</p>", BASE)
        _check_allow_list(out)
        if not gate_only:  # (the gate alone leaves <img src=x> relative: it has no base to resolve it)
            audit_html(out, vector, expect_visible=False)
        assert out.startswith("<p>text</p>")  # (an unclosed <svg> or <textarea> takes what follows with it)

    @pytest.mark.parametrize("gate_only", [False, True], ids=["pass+gate", "gate only"])
    def test_the_security_tests_payloads(self, monkeypatch, gate_only):
        if gate_only:
            _gate_only(monkeypatch)
        for payload in (SCRIPT, ATTR, TEMPLATE, NASTY, SHORT, f'<a href="{JS_URL}">x</a>', f"<img src=x onerror={JS_URL}>"):
            for html in (payload, f"<p>{payload}</p>", f'<a href="https://a.test/">{payload}</a>'):
                out = sanitize_html(html, BASE)
                _check_allow_list(out)
                if not gate_only:  # (the gate alone leaves <img src=x> relative: it has no base to resolve it)
                    audit_html(out, html, expect_visible=False)

    @given(st.lists(st.one_of(
        st.text(max_size=20),
        st.sampled_from(VECTORS),
        st.sampled_from([f"<{t}>" for t in OUTSIDE] + [f"</{t}>" for t in OUTSIDE]),
        st.sampled_from(["<p>", "</p>", "<a href='https://a.test/'>", "</a>", "<li>", "<h2>", "<br>", "<img src='/i.jpg'>",
                         "<!--", "-->", "<![CDATA[", "]]>", "<?x ?>", "&", "&lt;", "<", ">", "\"", "'"]),
    ), max_size=10).map("".join), st.booleans())
    @settings(max_examples=300, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    def test_whatever_the_input_the_output_keeps_the_allow_list(self, monkeypatch, html, gate_only):
        with monkeypatch.context() as m:
            if gate_only:
                _gate_only(m)
            out, text = sanitize_with_text(html, BASE)
        assert isinstance(out, str) and isinstance(text, str)
        _check_allow_list(out)
        if not gate_only:
            audit_html(out, html, expect_visible=False)
