"""Join the two 0004 branches (REST API roll-ups, WhatsApp) into one head.

Revision ID: 0005_merge
Revises: 0004_api, 0004_whatsapp
"""

from __future__ import annotations

revision = "0005_merge"
down_revision = ("0004_api", "0004_whatsapp")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: both branches are independent."""


def downgrade() -> None:
    """Nothing to change."""
