import { useService } from "@web/core/utils/hooks";
import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { KanbanController } from "@web/views/kanban/kanban_controller";
import { KanbanHeader } from "@web/views/kanban/kanban_header";

/**
 * Whether the pipeline may quick create an opportunity in the column of
 * ``group``, asked to the server before the user types anything: a stage that
 * takes no new opportunities, or whose gates before it ask for what a new
 * opportunity cannot have, says so in a notification, which offers to quick
 * create in the first stage of the funnel instead.
 *
 * @param {Object} group the column (a group of the kanban grouped by stage)
 * @param {Object} list the groups of the kanban
 * @param {Object} services orm and notification
 * @param {Function} openQuickCreate opens the quick create in a column
 * @returns {Promise<boolean>}
 */
async function funnelMayQuickCreate(group, list, { orm, notification }, openQuickCreate) {
    if (group.resModel !== "crm.lead" || group.groupByField?.name !== "stage_id" || !group.value) {
        return true;
    }
    const refusal = await orm.call("crm.lead", "funnel_check_quick_create", [group.value], {
        context: group.context,
    });
    if (!refusal) {
        return true;
    }
    const firstGroup = list.groups.find((g) => g.value === refusal.first_stage_id);
    let close = () => {};
    const buttons = firstGroup
        ? [
              {
                  name: _t("Create in “%s”", refusal.first_stage_name),
                  primary: true,
                  onClick: async () => {
                      close();
                      if (firstGroup.isFolded) {
                          await firstGroup.toggle();
                      }
                      openQuickCreate(firstGroup);
                  },
              },
          ]
        : [];
    close = notification.add(refusal.message, {
        title: _t("New opportunities start elsewhere"),
        type: "warning",
        className: "o_funnel_quick_create_refused",
        buttons,
    });
    return false;
}

patch(KanbanHeader.prototype, {
    setup() {
        super.setup(...arguments);
        this.funnelServices = {
            orm: useService("orm"),
            notification: useService("notification"),
        };
    },

    /** The "+" of a column of the pipeline. */
    async quickCreate() {
        const allowed = await funnelMayQuickCreate(
            this.group,
            this.props.list,
            this.funnelServices,
            (group) => (this.props.quickCreateState.groupId = group.id)
        );
        if (allowed) {
            return super.quickCreate(...arguments);
        }
    },
});

patch(KanbanController.prototype, {
    setup() {
        super.setup(...arguments);
        this.funnelServices = {
            orm: useService("orm"),
            notification: useService("notification"),
        };
    },

    /** The "New" button, which quick creates in the first column. */
    async createRecord() {
        const root = this.model.root;
        if (
            this.canQuickCreate &&
            this.props.archInfo.onCreate === "quick_create" &&
            root.groups?.length
        ) {
            const allowed = await funnelMayQuickCreate(
                root.groups[0],
                root,
                this.funnelServices,
                (group) => (this.quickCreateState.groupId = group.id)
            );
            if (!allowed) {
                return;
            }
        }
        return super.createRecord(...arguments);
    },
});
