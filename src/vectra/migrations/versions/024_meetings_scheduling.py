"""Meetings scheduling: availability per user, bookings that cannot overlap, Calendly dedupe.

Why: the booking page and the scheduler agent must offer only free time, and two visitors
clicking the same slot at once must not both get it. `meeting_bookings` holds the host's
taken time with an exclusion constraint (btree_gist) on (user_id, tsrange), so PostgreSQL
itself refuses the second booking whatever the application races. `meeting_availability`
stores each user's weekly hours in their own IANA zone (DST is resolved when slots are
computed, never stored as offsets). `meetings.user_id` names the host; Calendly deliveries
are recorded in `calendly_events_seen` and meetings carry a unique `calendly_event_id` per
organization, so a replayed webhook changes nothing.
"""

from __future__ import annotations

from alembic import op

from vectra.migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = "024_meetings_scheduling"
down_revision = "022_mail_sending"
branch_labels = None
depends_on = None

TABLES = ("meeting_availability", "meeting_bookings", "calendly_events_seen")


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE meetings ADD COLUMN user_id UUID REFERENCES users(id) ON DELETE SET NULL;
        CREATE INDEX idx_meetings_user ON meetings(user_id);
        CREATE INDEX idx_meetings_org_scheduled ON meetings(organization_id, scheduled_at, id);
        CREATE UNIQUE INDEX meetings_org_calendly_event_key
            ON meetings(organization_id, calendly_event_id) WHERE calendly_event_id IS NOT NULL;

        CREATE TABLE meeting_availability (
            id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
            user_id UUID NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
            timezone VARCHAR(64) NOT NULL,
            working_hours JSONB NOT NULL,
            buffer_minutes INTEGER NOT NULL DEFAULT 0 CHECK (buffer_minutes BETWEEN 0 AND 240),
            minimum_notice_minutes INTEGER NOT NULL DEFAULT 240
                CHECK (minimum_notice_minutes BETWEEN 0 AND 43200),
            slot_minutes INTEGER NOT NULL DEFAULT 30 CHECK (slot_minutes BETWEEN 5 AND 480),
            max_per_day INTEGER CHECK (max_per_day > 0),
            created_at TIMESTAMP DEFAULT NOW(),
            updated_at TIMESTAMP DEFAULT NOW()
        );
        CREATE INDEX idx_meeting_availability_org ON meeting_availability(organization_id);
        CREATE TRIGGER update_meeting_availability_updated_at BEFORE UPDATE
            ON meeting_availability FOR EACH ROW EXECUTE FUNCTION update_updated_at();

        CREATE TABLE meeting_bookings (
            id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
            meeting_id UUID NOT NULL UNIQUE REFERENCES meetings(id) ON DELETE CASCADE,
            user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            lead_id UUID REFERENCES leads(id) ON DELETE CASCADE,
            starts_at TIMESTAMP NOT NULL,
            ends_at TIMESTAMP NOT NULL,
            attendee_timezone VARCHAR(64),
            source VARCHAR(20) NOT NULL
                CHECK (source IN ('booking_page', 'calendly', 'google', 'api')),
            ics_uid VARCHAR(255) NOT NULL,
            ics_sequence INTEGER NOT NULL DEFAULT 0,
            google_event_id VARCHAR(255),
            released_at TIMESTAMP,
            created_at TIMESTAMP DEFAULT NOW(),
            updated_at TIMESTAMP DEFAULT NOW(),
            CHECK (ends_at > starts_at),
            CONSTRAINT meeting_bookings_no_overlap EXCLUDE USING gist (
                user_id WITH =, tsrange(starts_at, ends_at) WITH &&
            ) WHERE (released_at IS NULL)
        );
        CREATE INDEX idx_meeting_bookings_org ON meeting_bookings(organization_id);
        CREATE INDEX idx_meeting_bookings_google ON meeting_bookings(google_event_id)
            WHERE google_event_id IS NOT NULL;
        CREATE TRIGGER update_meeting_bookings_updated_at BEFORE UPDATE
            ON meeting_bookings FOR EACH ROW EXECUTE FUNCTION update_updated_at();

        CREATE TABLE calendly_events_seen (
            id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
            event_key VARCHAR(600) NOT NULL,
            event_type VARCHAR(64) NOT NULL,
            received_at TIMESTAMP DEFAULT NOW(),
            UNIQUE (organization_id, event_key)
        );
        CREATE INDEX idx_calendly_events_seen_org ON calendly_events_seen(organization_id);
        """
    )
    for table in TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TABLES:
        disable_tenant_rls(table)
    op.execute(
        """
        DROP TABLE calendly_events_seen;
        DROP TABLE meeting_bookings;
        DROP TABLE meeting_availability;
        DROP INDEX meetings_org_calendly_event_key;
        DROP INDEX idx_meetings_org_scheduled;
        ALTER TABLE meetings DROP COLUMN user_id;
        """
    )
