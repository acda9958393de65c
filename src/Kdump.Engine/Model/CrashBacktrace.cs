using Kdump.Engine;
using System.Text;

namespace Kdump.Engine.Model;

/// <summary>
/// The kernel backtrace of one task (Get-CrashBacktrace, crash's bt): who, where it ran, how the trace was
/// started, and its frames from the innermost out.
/// </summary>
public sealed class CrashBacktrace : DumpRecord
{
    public int Pid { get; init; }
    /// <summary>Address of the task_struct.</summary>
    public KernelAddress Task { get; init; }
    public int Cpu { get; init; }
    public string Command { get; init; } = "";
    /// <summary>True when the task was running on its CPU when the dump was taken.</summary>
    public bool IsActive { get; init; }
    /// <summary>True for the task that panicked.</summary>
    public bool IsPanicTask { get; init; }
    /// <summary>"Registers" (the CPU's NT_PRSTATUS), "SavedFrame" (task->thread.sp of a sleeping task).</summary>
    public string Source { get; init; } = "";
    /// <summary>"ORC" or "FramePointer".</summary>
    public string Method { get; init; } = "";
    public IReadOnlyList<CrashFrame> Frames { get; init; } = Array.Empty<CrashFrame>();
    /// <summary>Why the trace ended early (corrupt stack, missing data), else empty.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = Array.Empty<string>();

    /// <summary>crash's header line: <c>PID: 780      TASK: ffff8cda42d53080  CPU: 1    COMMAND: "kdump-panic"</c>.</summary>
    public string Header => $"PID: {Pid,-8} TASK: {Task:x16}  CPU: {Cpu,-4} COMMAND: \"{Command}\"";

    /// <summary>The whole trace as crash prints it (header, frames, register blocks, stack switches).</summary>
    public string Text
    {
        get
        {
            var sb = new StringBuilder(Header).Append('\n');
            for (int i = 0; i < Frames.Count; i++)
            {
                var f = Frames[i];
                if (i > 0 && Frames[i - 1].Stack != f.Stack && Frames[i - 1].Stack != "task")
                    sb.Append("--- <").Append(Frames[i - 1].Stack).Append(" stack> ---\n");
                if (f.FromRegisters && f.Registers is not null && i == 0) sb.Append(f.RegisterText).Append('\n').Append(f.Text).Append('\n');
                else
                {
                    sb.Append(f.Text).Append('\n');
                    if (f.Registers is not null && !f.FromRegisters) sb.Append(f.RegisterText).Append('\n');
                }
            }
            return sb.ToString().TrimEnd('\n');
        }
    }

    public override string ToString() => Header;
}
