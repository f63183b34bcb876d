import { Activity } from "@mail/core/web/activity_model";
import { patch } from "@web/core/utils/patch";

/**
 * Marking an activity of an opportunity done sends what the user said in the
 * Mark Done dialog of the time spent and the outcome, in the context keys the
 * server reads when it logs the activity (funnel_log_duration and
 * funnel_log_outcome). Without them the server logs the type's default
 * duration and a neutral outcome.
 */
patch(Activity.prototype, {
    setup() {
        super.setup(...arguments);
        /**
         * Context of the next "done" call, set by the Mark Done dialog.
         * @type {{funnel_log_duration?: number, funnel_log_outcome: string}|undefined}
         */
        this.funnelLogContext = undefined;
    },

    /** @returns {Object|undefined} the dialog's context, used once */
    funnelTakeLogContext() {
        const context = this.funnelLogContext;
        this.funnelLogContext = undefined;
        return context;
    },

    funnelReloadChatter() {
        this.store.activityBroadcastChannel?.postMessage({
            type: "RELOAD_CHATTER",
            payload: { id: this.res_id, model: this.res_model },
        });
    },

    /** @param {number[]} attachmentIds */
    async markAsDone(attachmentIds = []) {
        const context = this.funnelTakeLogContext();
        if (!context) {
            return super.markAsDone(...arguments);
        }
        await this.store.env.services.orm.call("mail.activity", "action_feedback", [[this.id]], {
            attachment_ids: attachmentIds,
            feedback: this.feedback,
            context,
        });
        this.funnelReloadChatter();
    },

    async markAsDoneAndScheduleNext() {
        const context = this.funnelTakeLogContext();
        if (!context) {
            return super.markAsDoneAndScheduleNext(...arguments);
        }
        const action = await this.store.env.services.orm.call(
            "mail.activity",
            "action_feedback_schedule_next",
            [[this.id]],
            { feedback: this.feedback, context }
        );
        this.funnelReloadChatter();
        return action;
    },
});
