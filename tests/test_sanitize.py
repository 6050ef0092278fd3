"""spiders.sanitize: allow-list HTML cleaning and HTML-to-text."""

from __future__ import annotations

import pytest

from spiders.sanitize import html_to_text, sanitize_html, sanitize_with_text

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
