"""One membership: an umbrella's member towns are its memberships, for billing too.

Each member town of an umbrella contract (billing_umbrella_members) is reconciled with the
umbrella's memberships, then that second list is dropped:
- a town billed with no membership over its dates joins the umbrella on the billed dates;
- a membership whose dates differ from the billed ones takes the billed dates (what the
  collectivity signed and was invoiced for);
- a membership of an umbrella under contract that was never billed is kept, and reported: it is
  billed from now on;
- a billed town with no territory, or a contract whose customer is not the umbrella's territory,
  cannot be reconciled: the upgrade stops and says which, and changes nothing.
Every disagreement is reported on the upgrade's output.

Revision ID: 6a2e8d4f1b37
Revises: 3f7d2b9c4e10
Create Date: 2026-12-13 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '6a2e8d4f1b37'
down_revision = '3f7d2b9c4e10'
branch_labels = None
depends_on = None

def _report(line: str) -> None:
    print(f"membership reconciliation: {line}")  # noqa: T201 - the operator reads the upgrade


def upgrade():
    conn = op.get_bind()
    billed = conn.execute(sa.text(
        "SELECT m.id, m.contract_id, m.member_tenant_id, m.name, m.joined_on, m.left_on, "
        "       cu.tenant_id AS umbrella_id, t.kind AS umbrella_kind, t.name AS umbrella "
        "FROM billing_umbrella_members m "
        "JOIN billing_contracts c ON c.id = m.contract_id "
        "JOIN billing_customers cu ON cu.id = c.customer_id "
        "LEFT JOIN tenants t ON t.id = cu.tenant_id "
        "ORDER BY m.contract_id, m.joined_on, m.id"
    )).mappings().all()
    problems = []
    for row in billed:
        if row["umbrella_id"] is None or row["umbrella_kind"] != "umbrella":
            problems.append(
                f"contract {row['contract_id']}: its customer is not an umbrella's territory"
            )
        if row["member_tenant_id"] is None:
            problems.append(
                f"contract {row['contract_id']}: member town {row['name']!r} has no territory "
                "(create it with `flask tenants create`, then set billing_umbrella_members."
                f"member_tenant_id of row {row['id']})"
            )
    if problems:
        raise RuntimeError(
            "the member towns of umbrella contracts cannot all be reconciled; nothing changed:\n"
            + "\n".join(sorted(set(problems)))
        )
    matched = set()
    for row in billed:
        stays = conn.execute(sa.text(
            "SELECT id, joined_on, left_on FROM memberships "
            "WHERE umbrella_id = :u AND member_id = :m "
            "AND (left_on IS NULL OR left_on > :joined) "
            "AND (CAST(:left AS date) IS NULL OR joined_on < :left) ORDER BY joined_on"
        ), {"u": row["umbrella_id"], "m": row["member_tenant_id"], "joined": row["joined_on"],
            "left": row["left_on"]}).mappings().all()
        if not stays:
            new_id = conn.execute(sa.text(
                "INSERT INTO memberships (umbrella_id, member_id, joined_on, left_on) "
                "VALUES (:u, :m, :joined, :left) RETURNING id"
            ), {"u": row["umbrella_id"], "m": row["member_tenant_id"], "joined": row["joined_on"],
                "left": row["left_on"]}).scalar_one()
            matched.add(new_id)
            _report(f"{row['name']} joins {row['umbrella']} from {row['joined_on']}"
                    f" to {row['left_on'] or '…'}, as billed by contract {row['contract_id']}")
            continue
        stay = stays[0]
        matched.add(stay["id"])
        if (stay["joined_on"], stay["left_on"]) != (row["joined_on"], row["left_on"]):
            conn.execute(sa.text(
                "UPDATE memberships SET joined_on = :joined, left_on = :left WHERE id = :id"
            ), {"joined": row["joined_on"], "left": row["left_on"], "id": stay["id"]})
            _report(f"{row['name']} in {row['umbrella']}: dates "
                    f"{stay['joined_on']}–{stay['left_on'] or '…'} become the billed "
                    f"{row['joined_on']}–{row['left_on'] or '…'} (contract {row['contract_id']})")
    under_contract = {row["umbrella_id"] for row in billed}
    if under_contract:
        hosted = conn.execute(sa.text(
            "SELECT m.id, u.name AS umbrella, t.name, m.joined_on FROM memberships m "
            "JOIN tenants t ON t.id = m.member_id JOIN tenants u ON u.id = m.umbrella_id "
            "WHERE m.umbrella_id = ANY(:ids)"
        ), {"ids": list(under_contract)}).mappings().all()
        for stay in hosted:
            if stay["id"] not in matched:
                _report(f"{stay['name']} is a member of {stay['umbrella']} since "
                        f"{stay['joined_on']} but was not billed: it is from now on")
    op.drop_table('billing_umbrella_members')


def downgrade():
    op.create_table(
        'billing_umbrella_members',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('contract_id', sa.Integer(), nullable=False),
        sa.Column('member_tenant_id', sa.Integer(), nullable=True),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('tier', sa.Enum('departement', 'epci', 'commune', name='billing_tier', create_type=False), nullable=False),
        sa.Column('joined_on', sa.Date(), nullable=False),
        sa.Column('left_on', sa.Date(), nullable=True),
        sa.CheckConstraint('left_on IS NULL OR left_on > joined_on', name=op.f('ck_billing_umbrella_members_left_after_joined')),
        sa.ForeignKeyConstraint(['contract_id'], ['billing_contracts.id'], name=op.f('fk_billing_umbrella_members_contract_id_billing_contracts'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['member_tenant_id'], ['tenants.id'], name=op.f('fk_billing_umbrella_members_member_tenant_id_tenants'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_umbrella_members')),
    )
    op.create_index(op.f('ix_billing_umbrella_members_contract_id'), 'billing_umbrella_members', ['contract_id'], unique=False)
    op.create_index(op.f('ix_billing_umbrella_members_member_tenant_id'), 'billing_umbrella_members', ['member_tenant_id'], unique=False)
    # Each contract's members again, from the umbrella's memberships over the contract's term.
    op.execute(
        "INSERT INTO billing_umbrella_members (contract_id, member_tenant_id, name, tier, joined_on, left_on) "
        "SELECT c.id, t.id, t.name, CAST(CAST(t.kind AS text) AS billing_tier), "
        "       GREATEST(m.joined_on, c.start_on), m.left_on "
        "FROM billing_contracts c JOIN billing_customers cu ON cu.id = c.customer_id "
        "JOIN memberships m ON m.umbrella_id = cu.tenant_id JOIN tenants t ON t.id = m.member_id "
        "WHERE c.kind = 'umbrella' AND m.joined_on < c.end_on "
        "AND (m.left_on IS NULL OR m.left_on > GREATEST(m.joined_on, c.start_on))"
    )
