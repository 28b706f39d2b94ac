import { Component, type ReactNode } from 'react';

/** Shows what broke instead of a blank page. */
export class ErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  override state = { error: null as Error | null };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  override render() {
    if (this.state.error)
      return (
        <div className="card error" role="alert">
          <h2>This view failed to render</h2>
          <pre>{this.state.error.message}</pre>
          <button className="button" onClick={() => this.setState({ error: null })}>
            Try again
          </button>
        </div>
      );
    return this.props.children;
  }
}
