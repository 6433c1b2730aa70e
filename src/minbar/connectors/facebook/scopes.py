"""The permissions Minbar asks for on Facebook, and why each one.

Permissions reference: https://developers.facebook.com/docs/permissions. Each needs
Advanced Access (App Review, and Business Verification) before people without a
role on the app can grant it.
"""

from __future__ import annotations

SCOPES: tuple[str, ...] = (
    "pages_show_list",  # list the Pages the person manages (GET /me/accounts)
    "pages_read_engagement",  # read posts, comments, followers and the Page's own details
    "pages_manage_posts",  # publish and delete posts, photos and videos
    "pages_manage_engagement",  # answer, hide and delete comments
    "pages_read_user_content",  # read visitors' posts and comments, posts the Page is tagged in
    "pages_manage_metadata",  # subscribe the Page to webhooks (POST /{page-id}/subscribed_apps)
    "pages_messaging",  # read and answer Messenger conversations
    "read_insights",  # post and Page insights
    "business_management",  # Pages owned through a business portfolio
)
