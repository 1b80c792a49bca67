/** Twilio's error body (`code`, `message`, `more_info`, `status`) for the emulator's API answers. */

export class TwilioApiError extends Error {
  readonly status: number;
  readonly code: number;
  constructor(status: number, code: number, message: string) {
    super(message);
    this.name = 'TwilioApiError';
    this.status = status;
    this.code = code;
  }

  toJson(): Record<string, unknown> {
    return { code: this.code, message: this.message, more_info: `https://www.twilio.com/docs/errors/${this.code}`, status: this.status };
  }
}

export const authenticateError = () => new TwilioApiError(401, 20003, 'Authenticate');
export const notFoundError = (path: string) => new TwilioApiError(404, 20404, `The requested resource ${path} was not found`);
export const badParameterError = (message: string) => new TwilioApiError(400, 20001, message);
export const tooManyRequestsError = () => new TwilioApiError(429, 20429, 'Too Many Requests');
export const methodNotAllowedError = () => new TwilioApiError(405, 20004, 'Method not allowed');
