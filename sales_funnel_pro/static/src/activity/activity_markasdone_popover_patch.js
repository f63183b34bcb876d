import { ActivityMarkAsDone } from "@mail/core/web/activity_markasdone_popover";
import { onWillStart, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { useService } from "@web/core/utils/hooks";
import { patch } from "@web/core/utils/patch";
import { formatFloatTime } from "@web/views/fields/formatters";
import { parseFloatTime } from "@web/views/fields/parsers";

// the server refuses a logged duration outside ]0, 24] hours
const MAX_DURATION = 24;

/**
 * The Mark Done dialog of an opportunity's activity (chatter, and the activity
 * widget of kanban and list views) asks how long it took, prefilled with the
 * activity type's default duration, and how it went (neutral unless told).
 */
patch(ActivityMarkAsDone.prototype, {
    setup() {
        super.setup(...arguments);
        this.funnelLog = useState({ duration: "", outcome: "neutral", error: "" });
        if (this.isFunnelLogged) {
            const orm = useService("orm");
            onWillStart(async () => {
                const [activityType] = await orm.read(
                    "mail.activity.type",
                    [this.props.activity.activity_type_id[0]],
                    ["default_duration"]
                );
                this.funnelLog.duration = formatFloatTime(activityType?.default_duration || 1);
            });
        }
    },

    /** Activities done on an opportunity are logged with duration and outcome. */
    get isFunnelLogged() {
        const { res_model, activity_type_id } = this.props.activity;
        return res_model === "crm.lead" && Boolean(activity_type_id);
    },

    get funnelOutcomes() {
        return [
            { value: "positive", label: _t("Positive"), activeClass: "btn-success" },
            { value: "neutral", label: _t("Neutral"), activeClass: "btn-secondary" },
            { value: "negative", label: _t("Negative"), activeClass: "btn-danger" },
        ];
    },

    /** @param {string} outcome */
    funnelSetOutcome(outcome) {
        this.funnelLog.outcome = outcome;
    },

    /**
     * Hand the dialog's values to the activity for the "done" call.
     *
     * @returns {boolean} false when the duration is not a valid number of hours
     */
    funnelPrepareLog() {
        if (!this.isFunnelLogged) {
            return true;
        }
        const context = { funnel_log_outcome: this.funnelLog.outcome };
        const text = this.funnelLog.duration.trim();
        if (text) {
            let duration;
            try {
                duration = parseFloatTime(text);
            } catch {
                duration = NaN;
            }
            if (!(duration > 0 && duration <= MAX_DURATION)) {
                this.funnelLog.error = _t(
                    "The duration is in hours, more than 0 and at most 24 (e.g. 1:30)."
                );
                return false;
            }
            context.funnel_log_duration = duration;
        }
        this.funnelLog.error = "";
        this.props.activity.funnelLogContext = context;
        return true;
    },

    async onClickDone() {
        if (this.funnelPrepareLog()) {
            return super.onClickDone(...arguments);
        }
    },

    async onClickDoneAndScheduleNext() {
        if (this.funnelPrepareLog()) {
            return super.onClickDoneAndScheduleNext(...arguments);
        }
    },
});
