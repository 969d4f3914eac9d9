import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router-dom';
import { ApiError, api, fieldMessage } from '../api/client';
import type { Account } from '../api/types';
import { Loading } from '../components/Status';
import { ACCOUNT_KEY, rememberSignedIn, useAccount } from './account';

const PASSWORD_MIN = 10;

type Mode = 'signin' | 'signup';

/** Only paths of this app: never an open redirect to another site. */
function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

function AuthForm({ mode }: { mode: Mode }) {
  const account = useAccount();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const ids = { email: useId(), password: useId(), error: useId() };
  const signUp = mode === 'signup';

  const submit = useMutation({
    mutationFn: () =>
      api<Account>(signUp ? '/api/auth/register' : '/api/auth/login', {
        method: 'POST',
        json: { email, password },
      }),
    onSuccess: (signedIn) => {
      rememberSignedIn(true);
      queryClient.clear();
      queryClient.setQueryData(ACCOUNT_KEY, signedIn);
      navigate(next, { replace: true });
    },
  });

  if (account.isPending) return <Loading what="your account" />;
  if (account.data && !submit.isSuccess) return <Navigate to={next} replace />;

  const error = submit.error instanceof ApiError ? submit.error : null;
  const fieldError = (field: string) => (error && error.field === field ? fieldMessage(error) : null);
  const formError = submit.error && !(error?.field === 'email' || error?.field === 'password')
    ? (submit.error as Error).message
    : null;

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    submit.mutate();
  };

  return (
    <main className="auth" id="main">
      <div className="auth-card">
        <p className="brand brand-large">
          <span aria-hidden="true" className="brand-mark" /> AI Investment Agent
        </p>
        <h1>{signUp ? 'Create your account' : 'Sign in'}</h1>
        <form onSubmit={onSubmit} noValidate aria-describedby={formError ? ids.error : undefined}>
          <label htmlFor={ids.email}>Email</label>
          <input
            id={ids.email}
            type="email"
            autoComplete="email"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            aria-invalid={fieldError('email') ? true : undefined}
            aria-describedby={fieldError('email') ? `${ids.email}-error` : undefined}
          />
          {fieldError('email') && (
            <p className="field-error" id={`${ids.email}-error`} role="alert">
              {fieldError('email')}
            </p>
          )}
          <label htmlFor={ids.password}>Password</label>
          <input
            id={ids.password}
            type="password"
            autoComplete={signUp ? 'new-password' : 'current-password'}
            required
            minLength={signUp ? PASSWORD_MIN : undefined}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-invalid={fieldError('password') ? true : undefined}
            aria-describedby={`${ids.password}-hint`}
          />
          <p className="hint" id={`${ids.password}-hint`}>
            {fieldError('password') ? (
              <span className="field-error" role="alert">
                {fieldError('password')}
              </span>
            ) : signUp ? (
              `At least ${PASSWORD_MIN} characters.`
            ) : null}
          </p>
          {formError && (
            <p className="form-error" id={ids.error} role="alert">
              {formError}
            </p>
          )}
          <button className="primary" type="submit" disabled={submit.isPending}>
            {submit.isPending ? 'Please wait…' : signUp ? 'Create account' : 'Sign in'}
          </button>
        </form>
        <p className="switch">
          {signUp ? (
            <>
              Already have an account? <Link to={`/signin${params.size ? `?${params}` : ''}`}>Sign in</Link>
            </>
          ) : (
            <>
              New here? <Link to={`/signup${params.size ? `?${params}` : ''}`}>Create an account</Link>
            </>
          )}
        </p>
        <p className="disclaimer">Research tool, not financial advice. It never places orders.</p>
      </div>
    </main>
  );
}

export function SignIn() {
  return <AuthForm mode="signin" />;
}

export function SignUp() {
  return <AuthForm mode="signup" />;
}
