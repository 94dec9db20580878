-- Work on records: notes with threaded comments, tasks with reminders and categories, each
-- user's notifications, and every record's activity timeline.
--
-- A note, a task and a timeline entry belong to a client, a company or a deal (a task may also
-- stand alone): three nullable columns, each with its foreign key, so deleting the record takes
-- them with it. The timeline is written in the transaction of the change it tells of, never
-- assembled when read: a record's page reads its newest entries from one index.

CREATE TABLE notes (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id bigint GENERATED ALWAYS AS IDENTITY,
    client_id bigint,
    company_id bigint,
    deal_id bigint,
    author_user_id bigint,
    body text NOT NULL CHECK (length(btrim(body)) BETWEEN 1 AND 10000),
    created_at timestamptz NOT NULL DEFAULT now(),
    edited_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    CHECK (num_nonnulls(client_id, company_id, deal_id) = 1),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, company_id) REFERENCES companies (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, deal_id) REFERENCES deals (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, author_user_id) REFERENCES users (tenant_id, id) ON DELETE SET NULL (author_user_id)
);
CREATE INDEX notes_client ON notes (tenant_id, client_id, id DESC) WHERE client_id IS NOT NULL;
CREATE INDEX notes_company ON notes (tenant_id, company_id, id DESC) WHERE company_id IS NOT NULL;
CREATE INDEX notes_deal ON notes (tenant_id, deal_id, id DESC) WHERE deal_id IS NOT NULL;

-- A comment answers a note, or another comment of it (`parent_id`): a thread.
CREATE TABLE note_comments (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    note_id bigint NOT NULL,
    parent_id bigint,
    author_user_id bigint,
    body text NOT NULL CHECK (length(btrim(body)) BETWEEN 1 AND 5000),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, note_id) REFERENCES notes (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, parent_id) REFERENCES note_comments (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, author_user_id) REFERENCES users (tenant_id, id) ON DELETE SET NULL (author_user_id)
);
CREATE INDEX note_comments_note ON note_comments (tenant_id, note_id, id);

GRANT SELECT, INSERT, UPDATE, DELETE ON notes, note_comments TO crm_app;
SELECT isolate_tenant_table('notes');
SELECT isolate_tenant_table('note_comments');

CREATE TABLE task_categories (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id bigint GENERATED ALWAYS AS IDENTITY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
    name_key text NOT NULL CHECK (length(name_key) BETWEEN 1 AND 200),
    color text NOT NULL CHECK (color ~ '^#[0-9a-f]{6}$'),
    -- Completing a task of this category asks for a note saying how it went.
    note_required boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name_key)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON task_categories TO crm_app;
SELECT isolate_tenant_table('task_categories');

-- A task. Its reminder fires once: `reminded_at` is set in the statement that writes the
-- notification (fire_due_reminders below). It is overdue once: `overdue_at` is set when its due
-- time passes while open (mark_overdue_tasks). Moving either time forward clears the mark.
CREATE TABLE tasks (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id bigint GENERATED ALWAYS AS IDENTITY,
    title text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
    priority text NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high')),
    category_id bigint,
    due_at timestamptz,
    remind_at timestamptz,
    reminded_at timestamptz,
    overdue_at timestamptz,
    assignee_user_id bigint,
    created_by bigint,
    client_id bigint,
    company_id bigint,
    deal_id bigint,
    done_at timestamptz,
    done_by bigint,
    done_note text NOT NULL DEFAULT '' CHECK (length(done_note) <= 5000),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, category_id) REFERENCES task_categories (tenant_id, id) ON DELETE SET NULL (category_id),
    FOREIGN KEY (tenant_id, assignee_user_id) REFERENCES users (tenant_id, id) ON DELETE SET NULL (assignee_user_id),
    FOREIGN KEY (tenant_id, created_by) REFERENCES users (tenant_id, id) ON DELETE SET NULL (created_by),
    FOREIGN KEY (tenant_id, done_by) REFERENCES users (tenant_id, id) ON DELETE SET NULL (done_by),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, company_id) REFERENCES companies (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, deal_id) REFERENCES deals (tenant_id, id) ON DELETE CASCADE
);
-- "My tasks": a user's open tasks by due time; and everyone's, for admins' lists.
CREATE INDEX tasks_open_of ON tasks (tenant_id, assignee_user_id, due_at, id) WHERE done_at IS NULL;
CREATE INDEX tasks_by_due ON tasks (tenant_id, due_at, id);
CREATE INDEX tasks_client ON tasks (tenant_id, client_id) WHERE client_id IS NOT NULL;
CREATE INDEX tasks_company ON tasks (tenant_id, company_id) WHERE company_id IS NOT NULL;
CREATE INDEX tasks_deal ON tasks (tenant_id, deal_id) WHERE deal_id IS NOT NULL;
-- The workers' queues, across tenants, soonest first.
CREATE INDEX tasks_reminders_due ON tasks (remind_at) WHERE reminded_at IS NULL AND done_at IS NULL AND remind_at IS NOT NULL;
CREATE INDEX tasks_overdue_due ON tasks (due_at) WHERE overdue_at IS NULL AND done_at IS NULL AND due_at IS NOT NULL;
GRANT SELECT, INSERT, UPDATE, DELETE ON tasks TO crm_app;
SELECT isolate_tenant_table('tasks');

INSERT INTO permissions (name) VALUES ('TaskWrite');
INSERT INTO role_permissions (role, permission) VALUES ('admin', 'TaskWrite'), ('agent', 'TaskWrite');

-- What a user is told of: a mention, a task's reminder, a task given to them. `data` holds
-- what the sentence needs (ids and names as they were), rendered in the reader's language.
CREATE TABLE notifications (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id bigint GENERATED ALWAYS AS IDENTITY,
    user_id bigint NOT NULL,
    kind text NOT NULL CHECK (kind IN ('mention', 'reminder', 'task_assigned')),
    data jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
    url text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX notifications_of ON notifications (tenant_id, user_id, id DESC);
CREATE INDEX notifications_unread ON notifications (tenant_id, user_id, id DESC) WHERE read_at IS NULL;
GRANT SELECT, INSERT, UPDATE, DELETE ON notifications TO crm_app;
SELECT isolate_tenant_table('notifications');

-- A record's timeline. `actor_type` says who did it (a user, the client writing in, the system
-- or an automation); `actor_name` is kept as it was. `summary` is the entry's short text (a
-- note's start, "Won → Lost"); `data` what else the entry shows.
CREATE TABLE activities (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id bigint GENERATED ALWAYS AS IDENTITY,
    client_id bigint,
    company_id bigint,
    deal_id bigint,
    kind text NOT NULL CHECK (kind IN ('created', 'message_in', 'message_out', 'note', 'comment', 'stage_moved',
                                       'field_changed', 'tagged', 'task_created', 'task_done', 'task_reopened',
                                       'merged', 'automation')),
    actor_type text NOT NULL CHECK (actor_type IN ('user', 'client', 'system', 'automation')),
    actor_user_id bigint,
    actor_name text NOT NULL,
    summary text NOT NULL DEFAULT '',
    data jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
    happened_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CHECK (num_nonnulls(client_id, company_id, deal_id) = 1),
    FOREIGN KEY (tenant_id, client_id) REFERENCES clients (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, company_id) REFERENCES companies (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, deal_id) REFERENCES deals (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, actor_user_id) REFERENCES users (tenant_id, id) ON DELETE SET NULL (actor_user_id)
);
-- Newest first, all kinds or one: each page is one range read.
CREATE INDEX activities_client ON activities (tenant_id, client_id, id DESC) WHERE client_id IS NOT NULL;
CREATE INDEX activities_client_kind ON activities (tenant_id, client_id, kind, id DESC) WHERE client_id IS NOT NULL;
CREATE INDEX activities_company ON activities (tenant_id, company_id, id DESC) WHERE company_id IS NOT NULL;
CREATE INDEX activities_company_kind ON activities (tenant_id, company_id, kind, id DESC) WHERE company_id IS NOT NULL;
CREATE INDEX activities_deal ON activities (tenant_id, deal_id, id DESC) WHERE deal_id IS NOT NULL;
CREATE INDEX activities_deal_kind ON activities (tenant_id, deal_id, kind, id DESC) WHERE deal_id IS NOT NULL;
GRANT SELECT, INSERT, UPDATE, DELETE ON activities TO crm_app;
SELECT isolate_tenant_table('activities');

-- A merge moves the merged client's notes, tasks and timeline to the survivor; undo moves them back.
ALTER TABLE client_merges
    ADD COLUMN note_ids bigint[] NOT NULL DEFAULT '{}',
    ADD COLUMN task_ids bigint[] NOT NULL DEFAULT '{}',
    ADD COLUMN activity_ids bigint[] NOT NULL DEFAULT '{}';

-- Fires the reminders that are due, in every tenant, each exactly once however many nodes
-- ask: a task is locked as it is claimed (others skip it), marked reminded and its
-- notification written in the one statement. The reminder goes to the task's assignee, or to
-- its author when no one is assigned. Returns the notifications written.
CREATE FUNCTION fire_due_reminders(p_limit int)
    RETURNS TABLE (tenant_id uuid, user_id bigint, notification_id bigint)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        WITH due AS (
            SELECT q.tenant_id, q.id FROM tasks q
            WHERE q.remind_at <= now() AND q.reminded_at IS NULL AND q.done_at IS NULL
            ORDER BY q.remind_at LIMIT p_limit FOR UPDATE SKIP LOCKED
        ), fired AS (
            UPDATE tasks t SET reminded_at = now()
            FROM due WHERE t.tenant_id = due.tenant_id AND t.id = due.id
            RETURNING t.tenant_id, t.id, t.title, t.due_at, coalesce(t.assignee_user_id, t.created_by) AS user_id
        )
        INSERT INTO notifications (tenant_id, user_id, kind, data, url)
        SELECT f.tenant_id, f.user_id, 'reminder',
               jsonb_build_object('task_id', f.id, 'title', f.title, 'due_at', f.due_at),
               '/crm/tasks?task=' || f.id
        FROM fired f WHERE f.user_id IS NOT NULL
        RETURNING notifications.tenant_id, notifications.user_id, notifications.id
    $$;
REVOKE ALL ON FUNCTION fire_due_reminders(int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fire_due_reminders(int) TO crm_app;

-- Marks the open tasks whose due time passed as overdue, in every tenant, each once however
-- many nodes ask. Returns them, for their `task.overdue` events.
CREATE FUNCTION mark_overdue_tasks(p_limit int)
    RETURNS TABLE (tenant_id uuid, task_id bigint, assignee_user_id bigint)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        UPDATE tasks t SET overdue_at = now()
        FROM (SELECT q.tenant_id, q.id FROM tasks q
              WHERE q.due_at <= now() AND q.overdue_at IS NULL AND q.done_at IS NULL
              ORDER BY q.due_at LIMIT p_limit FOR UPDATE SKIP LOCKED) due
        WHERE t.tenant_id = due.tenant_id AND t.id = due.id
        RETURNING t.tenant_id, t.id, t.assignee_user_id
    $$;
REVOKE ALL ON FUNCTION mark_overdue_tasks(int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mark_overdue_tasks(int) TO crm_app;
