import { useState, useSubEnv } from "@odoo/owl";
import { crmKanbanView } from "@crm/views/crm_kanban/crm_kanban_view";
import { CrmKanbanRenderer } from "@crm/views/crm_kanban/crm_kanban_renderer";
import { formatCurrency } from "@web/core/currency";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";

// crm.lead's expected closing date as the forecast counts it: empty when missing or past
const FORECAST_FIELD = "forecast_date";

/**
 * Key of a column in the sums the server returns, the one of the progress bar
 * (see read_progress_bar): the label of a period, "True"/"False", or the value.
 */
function columnKey(group) {
    const { type } = group.groupByField;
    if (type === "date" || type === "datetime") {
        return group.displayName || "False";
    }
    if (group.value === true || group.value === false) {
        return group.value ? "True" : "False";
    }
    return String(group.value);
}

/**
 * Column header of the forecast board: "Needs a date" for the opportunities that
 * count in no month, and the sums of the column per forecast category.
 */
export class FunnelForecastKanbanHeader extends CrmKanbanRenderer.components.KanbanHeader {
    static template = "sales_funnel_pro.FunnelForecastKanbanHeader";

    setup() {
        super.setup();
        this.forecastSums = useState(this.env.funnelForecastSums);
    }

    _getEmptyGroupLabel(fieldName) {
        if (fieldName === FORECAST_FIELD) {
            return _t("Needs a date");
        }
        return super._getEmptyGroupLabel(fieldName);
    }

    get columnSums() {
        return this.forecastSums.columns[columnKey(this.group)];
    }

    /** The installed base reaching its end of life in the column's month */
    get columnReplacement() {
        return this.forecastSums.replacement.columns[columnKey(this.group)];
    }

    /** Short, as the column's total: 12k */
    formatAmount(amount) {
        return formatCurrency(amount, this.forecastSums.currencyId, {
            humanReadable: true,
            digits: [69, 0],
        });
    }

    formatAmountInFull(amount) {
        return formatCurrency(amount, this.forecastSums.currencyId);
    }
}

export class FunnelForecastKanbanRenderer extends CrmKanbanRenderer {
    static components = {
        ...CrmKanbanRenderer.components,
        KanbanHeader: FunnelForecastKanbanHeader,
    };

    /** A card dragged to another month gets the last day of that month as date. */
    isMovableField(field) {
        return super.isMovableField(field) || field.name === FORECAST_FIELD;
    }
}

/**
 * Loads the column sums with the columns, and again when a card is saved (its
 * category, revenue or month changed), like the progress bars.
 */
export class FunnelForecastKanbanController extends crmKanbanView.Controller {
    static template = "sales_funnel_pro.FunnelForecastKanbanView";

    setup() {
        super.setup();
        this.forecastSums = useState({
            currencyId: false,
            columns: {},
            // the installed base's, beside the funnel's sums (never in them)
            replacement: { horizons: [], columns: {} },
        });
        useSubEnv({ funnelForecastSums: this.forecastSums });
        // the user's forecast call for the current period (funnel_board_status)
        this.callStatus = useState({ loaded: false, days: false, stale: false });
        // a sales manager's: how many salespeople have not called for a week
        this.teamStatus = useState({ reps: 0, stale: 0 });
        let sumsLoaded;
        const { onWillLoadRoot, onRootLoaded } = this.model.hooks;
        this.model.hooks.onWillLoadRoot = (config) => {
            onWillLoadRoot(config);
            sumsLoaded = Promise.all([
                this.loadForecastSums(config),
                this.loadCallStatus(),
                this.loadTeamStatus(),
            ]);
        };
        this.model.hooks.onRootLoaded = async () => {
            await onRootLoaded();
            return sumsLoaded;
        };
    }

    async onRecordSaved(record) {
        super.onRecordSaved(record);
        await this.loadForecastSums(this.model.config);
    }

    async loadForecastSums({ context, domain, groupBy, resModel }) {
        if (!groupBy.length) {
            return;
        }
        const sums = await this.model.orm.call(resModel, "funnel_forecast_column_sums", [], {
            domain,
            group_by: groupBy[0],
            context,
        });
        Object.assign(this.forecastSums, sums);
    }

    async loadCallStatus() {
        const status = await this.model.orm.call(
            "funnel.forecast.submission",
            "funnel_board_status",
            []
        );
        Object.assign(this.callStatus, status, { loaded: true });
    }

    async loadTeamStatus() {
        const status = await this.model.orm.call(
            "funnel.forecast.submission",
            "funnel_board_team_status",
            []
        );
        Object.assign(this.teamStatus, { reps: 0, stale: 0 }, status);
    }

    /** "2 of 5 salespeople not updated for 7+ days" */
    get teamStatusLabel() {
        return _t("%(stale)s of %(reps)s salespeople not updated for 7+ days", {
            stale: this.teamStatus.stale,
            reps: this.teamStatus.reps,
        });
    }

    /** The current calls not updated for a week, in Forecast Calls */
    openStaleCalls() {
        return this.actionService.doAction("sales_funnel_pro.funnel_forecast_submission_action", {
            additionalContext: { search_default_filter_stale: 1 },
        });
    }

    /** "Submitted today", "Not updated for 9 days", "No forecast submitted" */
    get callStatusLabel() {
        const { days } = this.callStatus;
        if (days === false) {
            return _t("No forecast submitted for this period");
        }
        if (days === 0) {
            return _t("Forecast submitted today");
        }
        return _t("Not updated for %s days", days);
    }

    /** The user's call: "Commit 13k · Best case 19k", and the manager's commit */
    get callAmountsLabel() {
        const { days, commit, best_case, adjusted_commit, currency_id } = this.callStatus;
        if (days === false) {
            return "";
        }
        const format = (amount) =>
            formatCurrency(amount, currency_id, { humanReadable: true, digits: [69, 0] });
        let label = _t("Commit %(commit)s · Best case %(best_case)s", {
            commit: format(commit),
            best_case: format(best_case),
        });
        if (adjusted_commit !== commit) {
            label += " · " + _t("Manager %(commit)s", { commit: format(adjusted_commit) });
        }
        return label;
    }

    formatReplacement(amount) {
        return formatCurrency(amount, this.forecastSums.currencyId, {
            humanReadable: true,
            digits: [69, 0],
        });
    }
}

export const funnelForecastKanbanView = {
    ...crmKanbanView,
    Controller: FunnelForecastKanbanController,
    Renderer: FunnelForecastKanbanRenderer,
};

registry.category("views").add("funnel_forecast_kanban", funnelForecastKanbanView);
