export {
  classifySesError,
  getAccount,
  getEmailIdentity,
  SESV2_SERVICE,
  type SesAccount,
  type SesApi,
  type SesIdentity,
  sendRawEmail,
  sesApiFromEnv,
} from "./api.ts";
export { createSesMailer, type SesMailerOptions } from "./mailer.ts";
