using System.Management.Automation;
using Kdump.Engine;

namespace Kdump.PowerShell;

/// <summary>
/// Base of every Kdump cmdlet: turns StopProcessing into a CancellationToken, hands the engine its host
/// delegates (warnings, verbose, progress, ShouldProcess) and maps engine exceptions to ErrorRecords in one place.
/// </summary>
public abstract class KdumpCmdlet : PSCmdlet
{
    private readonly CancellationTokenSource _cts = new();
    private EngineHost? _host;

    protected CancellationToken Cancellation => _cts.Token;

    /// <summary>
    /// The engine's view of this cmdlet: warnings, verbose text, progress and cancellation. PowerShell only accepts
    /// those writes on the pipeline thread, so messages the engine sends from worker threads are queued and written
    /// at the next call from the pipeline thread (progress from workers is dropped).
    /// </summary>
    protected EngineHost Engine => _host ??= CreateEngineHost();

    private readonly System.Collections.Concurrent.ConcurrentQueue<(bool Warning, string Text)> _offThread = new();
    private int _pipelineThread = -1;

    private EngineHost CreateEngineHost()
    {
        _pipelineThread = Environment.CurrentManagedThreadId;
        return new EngineHost
        {
            Warning = text => Write(true, text),
            Verbose = text => Write(false, text),
            Progress = (activity, status, pct) =>
            {
                if (!OnPipelineThread()) return;
                Flush();
                var rec = new ProgressRecord(Math.Abs(activity.GetHashCode() % 1000) + 1, activity, string.IsNullOrEmpty(status) ? activity : status)
                { PercentComplete = pct };
                if (pct >= 100) rec.RecordType = ProgressRecordType.Completed;
                WriteProgress(rec);
            },
            Cancellation = _cts.Token,
            ShouldProcess = (target, action) => OnPipelineThread() && ShouldProcess(target, action),
        };
    }

    private bool OnPipelineThread() => Environment.CurrentManagedThreadId == _pipelineThread;

    private void Write(bool warning, string text)
    {
        if (!OnPipelineThread()) { _offThread.Enqueue((warning, text)); return; }
        Flush();
        if (warning) WriteWarning(text); else WriteVerbose(text);
    }

    private void Flush()
    {
        while (_offThread.TryDequeue(out var m))
        {
            if (m.Warning) WriteWarning(m.Text); else WriteVerbose(m.Text);
        }
    }

    protected override void StopProcessing() => _cts.Cancel();

    /// <summary>Writes a non-terminating error for one bad item; the pipeline goes on.</summary>
    protected void WriteKdumpError(Exception ex, object? target = null) => WriteError(ErrorMapper.ToErrorRecord(ex, target));

    /// <summary>Stops the cmdlet with a terminating error (an unusable dump, a bad argument).</summary>
    protected void ThrowKdumpError(Exception ex, object? target = null) => ThrowTerminatingError(ErrorMapper.ToErrorRecord(ex, target));

    /// <summary>Runs an action and maps engine exceptions to a non-terminating error. Returns false on error.</summary>
    protected bool TryEngine(Action action, object? target = null)
    {
        try { action(); return true; }
        catch (PipelineStoppedException) { throw; }
        catch (OperationCanceledException) when (Cancellation.IsCancellationRequested) { throw new PipelineStoppedException(); }
        catch (Exception ex) when (ErrorMapper.IsEngineError(ex)) { WriteKdumpError(ex, target); return false; }
    }
}

/// <summary>The one place that maps engine exceptions to PowerShell error records.</summary>
public static class ErrorMapper
{
    public static bool IsEngineError(Exception ex) =>
        ex is KdumpException or IOException or UnauthorizedAccessException or InvalidDataException
           or ArgumentException or OverflowException or IndexOutOfRangeException or InvalidOperationException
           or NotSupportedException or FormatException or OutOfMemoryException;

    public static ErrorRecord ToErrorRecord(Exception ex, object? target = null)
    {
        if (ex is KdumpException k)
            return new ErrorRecord(ex, k.ErrorId, Category(k.Kind), k.Target ?? target);
        var (id, cat) = ex switch
        {
            FileNotFoundException => ("FileNotFound", ErrorCategory.ObjectNotFound),
            DirectoryNotFoundException => ("DirectoryNotFound", ErrorCategory.ObjectNotFound),
            UnauthorizedAccessException => ("AccessDenied", ErrorCategory.PermissionDenied),
            IOException => ("IOError", ErrorCategory.ReadError),
            ArgumentException => ("InvalidArgument", ErrorCategory.InvalidArgument),
            NotSupportedException => ("NotSupported", ErrorCategory.NotImplemented),
            _ => ("EngineError", ErrorCategory.InvalidData),
        };
        return new ErrorRecord(ex, id, cat, target);
    }

    public static ErrorCategory Category(KdumpErrorKind kind) => kind switch
    {
        KdumpErrorKind.InvalidData => ErrorCategory.InvalidData,
        KdumpErrorKind.NotFound => ErrorCategory.ObjectNotFound,
        KdumpErrorKind.ReadError => ErrorCategory.ReadError,
        KdumpErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
        KdumpErrorKind.NotSupported => ErrorCategory.NotImplemented,
        KdumpErrorKind.Mismatch => ErrorCategory.InvalidData,
        KdumpErrorKind.Unavailable => ErrorCategory.ResourceUnavailable,
        KdumpErrorKind.LimitExceeded => ErrorCategory.LimitsExceeded,
        KdumpErrorKind.PermissionDenied => ErrorCategory.PermissionDenied,
        KdumpErrorKind.WriteError => ErrorCategory.WriteError,
        _ => ErrorCategory.NotSpecified,
    };
}
