"""initial schema

Revision ID: 0001
Revises: 
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes  # noqa: F401 - names the module the columns below use

from storage import activity, counts, search


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('assessment',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('vendor_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('system', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('owner', sa.JSON(), nullable=True),
    sa.Column('disposition', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('assessed', sa.Date(), nullable=True),
    sa.Column('next_review', sa.Date(), nullable=True),
    sa.Column('review_every', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('trigger_types', sa.JSON(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('baseline_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_vendor_id'), ['vendor_id'], unique=False)

    op.create_table('assessmentflag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('trigger_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('resolved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('assessment_id', 'trigger_id', name='uq_flag')
    )
    with op.batch_alter_table('assessmentflag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessmentflag_assessment_id'), ['assessment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessmentflag_trigger_id'), ['trigger_id'], unique=False)
        batch_op.create_index('ix_flag_unresolved', ['resolved_at', 'assessment_id', 'created_at'], unique=False)

    op.create_table('auditevent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('object_type', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('object_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('auditevent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auditevent_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_auditevent_object_id'), ['object_id'], unique=False)

    op.create_table('chain_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('chain_record',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('object_type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('object_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('prev_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    with op.batch_alter_table('chain_record', schema=None) as batch_op:
        batch_op.create_index('ix_chain_object', ['object_type', 'object_id'], unique=False)

    op.create_table('checkrun',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('http_status', sa.Integer(), nullable=True),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('snapshot_id', sa.Integer(), nullable=True),
    sa.Column('changes', sa.Integer(), nullable=False),
    sa.Column('triggers', sa.Integer(), nullable=False),
    sa.Column('worker', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('checkrun', schema=None) as batch_op:
        batch_op.create_index('ix_checkrun_snapshot', ['snapshot_id'], unique=False)
        batch_op.create_index('ix_checkrun_source', ['source_id'], unique=False)
        batch_op.create_index('ix_checkrun_started_at', ['started_at'], unique=False, postgresql_using='brin')

    op.create_table('deadline_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trigger_id', sa.Integer(), nullable=False),
    sa.Column('deadline', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('due', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('trigger_id', 'deadline', 'stage', name='uq_deadline_notice')
    )
    with op.batch_alter_table('deadline_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deadline_notice_trigger_id'), ['trigger_id'], unique=False)

    op.create_table('joblease',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('lease_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_run_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('trigger_id', sa.Integer(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('lease_owner', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('lease_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedupe_key')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_status_next', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_trigger_id'), ['trigger_id'], unique=False)

    op.create_table('snapshot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('fetched_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('http_status', sa.Integer(), nullable=False),
    sa.Column('etag', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('last_modified', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('parser_version', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('document', sa.LargeBinary(), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=True),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_id', 'content_hash', name='uq_snapshot_content')
    )
    with op.batch_alter_table('snapshot', schema=None) as batch_op:
        batch_op.create_index('ix_snapshot_source_fetched', ['source_id', 'fetched_at', 'id'], unique=False)

    op.create_table('source',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('vendor_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('interval_s', sa.Float(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('etag', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('last_modified', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('next_due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_checked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_success_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_outcome', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('lease_owner', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('lease_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('current_snapshot_id', sa.Integer(), nullable=True),
    sa.Column('current_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('parser_version', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('body_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('pending_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('pending_count', sa.Integer(), nullable=False),
    sa.Column('pending_since', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('alert_state', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('source', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_source_alert_state'), ['alert_state'], unique=False)
        batch_op.create_index('ix_source_failing', ['id'], unique=False, postgresql_where=sa.text("active AND (consecutive_failures > 0 OR alert_state <> 'ok')"), sqlite_where=sa.text("active AND (consecutive_failures > 0 OR alert_state <> 'ok')"))
        batch_op.create_index(batch_op.f('ix_source_next_due_at'), ['next_due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_source_vendor_id'), ['vendor_id'], unique=False)

    op.create_table('trigger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('schema_version', sa.Integer(), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('severity', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('vendor_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('assessment_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('entities', sa.JSON(), nullable=True),
    sa.Column('evidence', sa.JSON(), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=True),
    sa.Column('channels', sa.JSON(), nullable=True),
    sa.Column('old_snapshot_id', sa.Integer(), nullable=True),
    sa.Column('new_snapshot_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('acked_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('acked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('ack_note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('rule', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedupe_key')
    )
    with op.batch_alter_table('trigger', schema=None) as batch_op:
        batch_op.create_index('ix_trigger_created', ['created_at', 'id', 'vendor_id', 'severity'], unique=False)
        batch_op.create_index('ix_trigger_new_snapshot', ['new_snapshot_id'], unique=False)
        batch_op.create_index('ix_trigger_old_snapshot', ['old_snapshot_id'], unique=False)
        batch_op.create_index('ix_trigger_severity_created', ['severity', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_trigger_source_created', ['source_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_trigger_status_counts', ['status', 'type', 'severity', 'vendor_id'], unique=False)
        batch_op.create_index('ix_trigger_status_created', ['status', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_trigger_type_created', ['type', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_trigger_vendor_created', ['vendor_id', 'created_at', 'id', 'severity'], unique=False)

    op.create_table('trigger_count',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('severity', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('vendor',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('owner', sa.JSON(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('vendor_activity',
    sa.Column('vendor_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('vendor_id')
    )
    with op.batch_alter_table('vendor_activity', schema=None) as batch_op:
        batch_op.create_index('ix_vendor_activity_day', ['last_day', 'vendor_id'], unique=False)

    # not autogenerated: the history's text search index (storage/search.py) and the SQL
    # triggers that keep vendor_activity (storage/activity.py) and trigger_count
    # (storage/counts.py)
    search.create(op.get_bind())
    activity.create(op.get_bind())
    counts.create(op.get_bind())


def downgrade() -> None:
    counts.drop(op.get_bind())
    activity.drop(op.get_bind())
    search.drop(op.get_bind())
    with op.batch_alter_table('vendor_activity', schema=None) as batch_op:
        batch_op.drop_index('ix_vendor_activity_day')

    op.drop_table('vendor_activity')
    op.drop_table('vendor')
    op.drop_table('trigger_count')
    with op.batch_alter_table('trigger', schema=None) as batch_op:
        batch_op.drop_index('ix_trigger_vendor_created')
        batch_op.drop_index('ix_trigger_type_created')
        batch_op.drop_index('ix_trigger_status_created')
        batch_op.drop_index('ix_trigger_status_counts')
        batch_op.drop_index('ix_trigger_source_created')
        batch_op.drop_index('ix_trigger_severity_created')
        batch_op.drop_index('ix_trigger_old_snapshot')
        batch_op.drop_index('ix_trigger_new_snapshot')
        batch_op.drop_index('ix_trigger_created')

    op.drop_table('trigger')
    with op.batch_alter_table('source', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_source_vendor_id'))
        batch_op.drop_index(batch_op.f('ix_source_next_due_at'))
        batch_op.drop_index('ix_source_failing', postgresql_where=sa.text("active AND (consecutive_failures > 0 OR alert_state <> 'ok')"), sqlite_where=sa.text("active AND (consecutive_failures > 0 OR alert_state <> 'ok')"))
        batch_op.drop_index(batch_op.f('ix_source_alert_state'))

    op.drop_table('source')
    with op.batch_alter_table('snapshot', schema=None) as batch_op:
        batch_op.drop_index('ix_snapshot_source_fetched')

    op.drop_table('snapshot')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_trigger_id'))
        batch_op.drop_index('ix_outbox_status_next')

    op.drop_table('outbox')
    op.drop_table('joblease')
    with op.batch_alter_table('deadline_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deadline_notice_trigger_id'))

    op.drop_table('deadline_notice')
    with op.batch_alter_table('checkrun', schema=None) as batch_op:
        batch_op.drop_index('ix_checkrun_started_at', postgresql_using='brin')
        batch_op.drop_index('ix_checkrun_source')
        batch_op.drop_index('ix_checkrun_snapshot')

    op.drop_table('checkrun')
    with op.batch_alter_table('chain_record', schema=None) as batch_op:
        batch_op.drop_index('ix_chain_object')

    op.drop_table('chain_record')
    op.drop_table('chain_head')
    with op.batch_alter_table('auditevent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auditevent_object_id'))
        batch_op.drop_index(batch_op.f('ix_auditevent_at'))

    op.drop_table('auditevent')
    with op.batch_alter_table('assessmentflag', schema=None) as batch_op:
        batch_op.drop_index('ix_flag_unresolved')
        batch_op.drop_index(batch_op.f('ix_assessmentflag_trigger_id'))
        batch_op.drop_index(batch_op.f('ix_assessmentflag_assessment_id'))

    op.drop_table('assessmentflag')
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_vendor_id'))

    op.drop_table('assessment')
