/** The public face of `notifications/` (targets, formats, the outbox); other folders import only this file. */
export {
  type AnnouncedIncident,
  announcementBody,
  announcementCard,
  type IncidentAnnouncement,
  queueAnnouncements,
} from './announcements.js';
export { ALERT_ACTIONS } from './formats.js';
export {
  enqueueNotifications,
  NotificationDeliverer,
  notificationId,
  payloadFor,
  type WebhookPayload,
} from './outbox.js';
export { queueWebhook } from './queue.js';
export {
  catalogTargets,
  configuredTargets,
  type DeliveryTarget,
  targetsForRule,
  unsetReferences,
} from './targets.js';
