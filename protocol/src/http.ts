import { z } from 'zod';
import { ErrorCode } from './codes.js';
import { Limits } from './frames.js';

const email = z.string().trim().toLowerCase().max(254).pipe(z.email('email is not a valid address'));

/** `POST /v1/auth/register` body. */
export const RegisterBody = z.object({
  email,
  password: z.string().min(1, 'password is required').max(256, 'password is longer than 256 characters'),
});
/** `POST /v1/auth/login` body (JSON, or the OAuth2 password form's `username`). */
export const LoginBody = z
  .object({
    email: email.optional(),
    username: email.optional(),
    password: z.string().min(1, 'password is required').max(256),
  })
  .refine((b) => b.email ?? b.username, { message: 'email is required', path: ['email'] })
  .transform((b) => ({ email: (b.email ?? b.username) as string, password: b.password }));
/** `POST /v1/auth/refresh` and `POST /v1/auth/logout` body. */
export const RefreshBody = z.object({ refreshToken: z.string().min(1).max(512) });

export const UserDto = z.object({ id: z.string(), email: z.string() });
export const AuthResponse = z.object({
  user: UserDto,
  accessToken: z.string(),
  refreshToken: z.string(),
  expiresAt: z.string(),
});

/** `POST /v1/sessions` body. */
export const CreateSessionBody = z.object({ title: z.string().trim().min(1).max(200).optional() });
/** `PATCH /v1/sessions/:id` body. */
export const UpdateSessionBody = z.object({ title: z.string().trim().min(1).max(200) });
export const SessionDto = z.object({
  id: z.string(),
  title: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
/** `POST /v1/sessions/:id/messages` body. */
export const PostMessageBody = z.object({
  id: z.string().min(1).max(Limits.maxIdChars),
  text: z.string().trim().min(1, 'text is empty').max(Limits.maxTextChars),
});

/** `POST /v1/sessions/:id/runs/:runId/feedback` body: thumbs up (1) or down (-1). */
export const FeedbackBody = z.object({
  score: z.union([z.literal(1), z.literal(-1)]),
  comment: z.string().max(1000).optional(),
});

export const ErrorBody = z.object({
  error: z.object({ code: z.enum(Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]]), message: z.string() }),
});

export type RegisterBody = z.infer<typeof RegisterBody>;
export type LoginBody = z.infer<typeof LoginBody>;
export type RefreshBody = z.infer<typeof RefreshBody>;
export type UserDto = z.infer<typeof UserDto>;
export type AuthResponse = z.infer<typeof AuthResponse>;
export type CreateSessionBody = z.infer<typeof CreateSessionBody>;
export type UpdateSessionBody = z.infer<typeof UpdateSessionBody>;
export type SessionDto = z.infer<typeof SessionDto>;
export type PostMessageBody = z.infer<typeof PostMessageBody>;
export type ErrorBody = z.infer<typeof ErrorBody>;
export type FeedbackBody = z.infer<typeof FeedbackBody>;
