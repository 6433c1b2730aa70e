"""Which Meta sign-in an Instagram channel uses, and what each asks for.

The Instagram Platform offers two APIs for professional (Business and Creator)
accounts (https://developers.facebook.com/docs/instagram-platform/overview):

* **Instagram API with Instagram Login** — the person signs in with Instagram
  (``https://www.instagram.com/oauth/authorize``); no Facebook Page is needed. The
  code is exchanged at ``https://api.instagram.com/oauth/access_token`` for a
  short-lived token, swapped at ``graph.instagram.com/access_token``
  (``grant_type=ig_exchange_token``) for a 60-day token that
  ``/refresh_access_token`` extends
  (https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/business-login).
  The app is the *Instagram app* of the Meta app (its own ID and secret):
  ``MINBAR_INSTAGRAM_CLIENT_ID`` / ``MINBAR_INSTAGRAM_CLIENT_SECRET``.
* **Instagram API with Facebook Login** — the Instagram account is linked to a
  Facebook Page; the person signs in with Facebook (the same Meta app as Facebook
  Pages, ``MINBAR_FACEBOOK_CLIENT_ID`` / ``_SECRET``) and Minbar uses the Page's
  token, which does not expire, on graph.facebook.com.

The operator's configuration chooses: Instagram Login when the Instagram app is
set, else Facebook Login through the Facebook app. Each channel remembers its
own (``credentials.data["login"]``), so both kinds can live side by side.
"""

from __future__ import annotations

INSTAGRAM_LOGIN = "instagram"
FACEBOOK_LOGIN = "facebook"

INSTAGRAM_LOGIN_SCOPES: tuple[str, ...] = (
    "instagram_business_basic",  # the account, its media, followers
    "instagram_business_content_publish",  # containers and media_publish
    "instagram_business_manage_comments",  # read, answer, hide and delete comments; mentions
    "instagram_business_manage_messages",  # read and answer direct messages
    "instagram_business_manage_insights",  # media and account insights
)

FACEBOOK_LOGIN_SCOPES: tuple[str, ...] = (
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_comments",
    "instagram_manage_insights",
    "instagram_manage_messages",
    "pages_show_list",  # find the Page the Instagram account is linked to
    "pages_read_engagement",  # required with the instagram_* permissions
    "pages_manage_metadata",  # subscribe the Page to webhooks
    "business_management",  # Pages and accounts owned through a business portfolio
)
