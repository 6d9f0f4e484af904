// The grounding prompts of the known models, as their authors publish them (sources in
// KnownModels.swift and docs/models.md). Only the placeholders are ours: {instruction},
// {width} x {height} (the size the model sees), {image} (where the screenshot goes).

extension PromptTemplate {
  /// Qwen2.5-VL's spatial-understanding cookbook: a box in JSON.
  static let qwen25VL = PromptTemplate(
    name: "qwen2.5-vl", user: "Locate {instruction}, output its bbox coordinates using JSON format.")

  /// Qwen3-VL's 2-D grounding cookbook asks the same way; its boxes are in 0...1000.
  static let qwen3VL = PromptTemplate(
    name: "qwen3-vl", user: "Locate {instruction}, output its bbox coordinates using JSON format.")

  /// UI-TARS (Qwen2-VL) deployment guide, computer prompt: the text, then the screenshot.
  static let uiTars = PromptTemplate(name: "ui-tars", user: """
    You are a GUI agent. You are given a task and your action history, with screenshots. You need to perform the next action to complete the task. \n
    ## Output Format
    ```
    Thought: ...
    Action: ...
    ```

    ## Action Space

    click(start_box='<|box_start|>(x1,y1)<|box_end|>')
    left_double(start_box='<|box_start|>(x1,y1)<|box_end|>')
    right_single(start_box='<|box_start|>(x1,y1)<|box_end|>')
    drag(start_box='<|box_start|>(x1,y1)<|box_end|>', end_box='<|box_start|>(x3,y3)<|box_end|>')
    hotkey(key='')
    type(content='') #If you want to submit your input, use "\\n" at the end of `content`.
    scroll(start_box='<|box_start|>(x1,y1)<|box_end|>', direction='down or up or right or left')
    wait() #Sleep for 5s and take a screenshot to check for any changes.
    finished()
    call_user() # Submit the task and call the user when the task is unsolvable, or when you need the user's help.


    ## Note
    - Use English in `Thought` part.
    - Summarize your next action (with its target element) in one sentence in `Thought` part.

    ## User Instruction
    {instruction}{image}
    """, maxTokens: 256)

  /// UI-TARS-1.5 computer-use prompt (Thought, then one Action with start_box).
  static let uiTars15 = PromptTemplate(name: "ui-tars-1.5", user: """
    You are a GUI agent. You are given a task and your action history, with screenshots. You need to perform the next action to complete the task.

    ## Output Format
    ```
    Thought: ...
    Action: ...
    ```

    ## Action Space
    click(start_box='<|box_start|>(x1,y1)<|box_end|>')
    left_double(start_box='<|box_start|>(x1,y1)<|box_end|>')
    right_single(start_box='<|box_start|>(x1,y1)<|box_end|>')
    drag(start_box='<|box_start|>(x1,y1)<|box_end|>', end_box='<|box_start|>(x3,y3)<|box_end|>')
    hotkey(key='ctrl c') # Split keys with a space and use lowercase. Also, do not use more than 3 keys in one hotkey action.
    type(content='xxx') # Use escape characters \\', \\", and \\n in content part to ensure we can parse the content in normal python string format. If you want to submit your input, use \\n at the end of content.
    scroll(start_box='<|box_start|>(x1,y1)<|box_end|>', direction='down or up or right or left') # Show more information on the `direction` side.
    wait() #Sleep for 5s and take a screenshot to check for any changes.
    finished(content='xxx') # Use escape characters \\', \\", and \\n in content part to ensure we can parse the content in normal python string format.

    ## Note
    - Use English in `Thought` part.
    - Write a small plan and finally summarize your next action (with its target element) in one sentence in `Thought` part.

    ## User Instruction
    {instruction}
    {image}
    """, maxTokens: 384)

  /// UI-TARS-1.5 grounding prompt: the Action alone, no Thought (short answers).
  static let uiTars15Grounding = PromptTemplate(name: "ui-tars-1.5-grounding", user: """
    You are a GUI agent. You are given a task and your action history, with screenshots. You need to perform the next action to complete the task. \n\n## Output Format\n\nAction: ...\n\n\n## Action Space\nclick(point='<point>x1 y1</point>'')\n\n## User Instruction
    {instruction}
    """, maxTokens: 64)

  /// GTA1: a system prompt naming the size of the resized screenshot; the instruction alone.
  static let gta1 = PromptTemplate(name: "gta1", system: """
    You are an expert UI element locator. Given a GUI image and a user's element description, provide the coordinates of the specified element as a single (x,y) point. The image resolution is height {height} and width {width}. For elements with area, return the center point.

    Output the coordinate pair exactly:
    (x,y)
    """, user: "{instruction}")

  /// UI-Venus-Ground (7B/72B): a box in resized pixels.
  static let uiVenusGround = PromptTemplate(
    name: "ui-venus-ground",
    user: "Outline the position corresponding to the instruction: {instruction}. The output should be only [x1,y1,x2,y2].")

  /// UI-Venus-1.5: a point in 0...1000, [-1,-1] when the target is not there.
  static let uiVenus15 = PromptTemplate(name: "ui-venus-1.5", user: """
    Output the center point of the position corresponding to the following instruction: \n{instruction}. \n\nThe output should just be the coordinates of a point, in the format [x,y]. Additionally, if the task is infeasible (e.g., the task is not related to the image), the output should be [-1,-1].
    """)

  /// MAI-UI grounding agent: reasoning in <grounding_think>, the point in <answer>.
  static let maiUI = PromptTemplate(name: "mai-ui", system: """
    You are a GUI grounding agent. \n## Task
    Given a screenshot and the user's grounding instruction. Your task is to accurately locate a UI element based on the user's instructions.
    First, you should carefully examine the screenshot and analyze the user's instructions,  translate the user's instruction into a effective reasoning process, and then provide the final coordinate.
    ## Output Format
    Return a json object with a reasoning process in <grounding_think></grounding_think> tags, a [x,y] format coordinate within <answer></answer> XML tags:
    <grounding_think>...</grounding_think>
    <answer>
    {"coordinate": [x,y]}
    </answer>
    """, user: "{instruction}", maxTokens: 384)

  /// Holo2 localization: a JSON object {"x", "y"} in 0...1000 (the card inserts the schema).
  static let holo2 = PromptTemplate(name: "holo2", user: """
    Localize an element on the GUI image according to the provided target and output a click position.
     * You must output a valid JSON following the format: {'properties': {'x': {'description': 'The x coordinate, normalized between 0 and 1000.', 'maximum': 1000, 'minimum': 0, 'title': 'X', 'type': 'integer'}, 'y': {'description': 'The y coordinate, normalized between 0 and 1000.', 'maximum': 1000, 'minimum': 0, 'title': 'Y', 'type': 'integer'}}, 'required': ['x', 'y'], 'title': 'ClickCoordinates', 'type': 'object'}
     Your target is:
    {instruction}
    """)

  /// InfiGUI-G1: reasoning in <think>, then points in JSON, in resized pixels.
  static let infiGUIG1 = PromptTemplate(name: "infigui-g1", system: """
    You FIRST think about the reasoning process as an internal monologue and then provide the final answer.
    The reasoning process MUST BE enclosed within <think> </think> tags.
    """, user: """
    The screen's resolution is {width}x{height}.
    Locate the UI element(s) for "{instruction}", output the coordinates using JSON format: [{"point_2d": [x, y]}, ...]
    """, maxTokens: 512)

  /// OS-Atlas-Base: a box between <|box_start|> and <|box_end|>, 0...1000.
  static let osAtlas = PromptTemplate(
    name: "os-atlas",
    user: "In this UI screenshot, what is the position of the element corresponding to the command \"{instruction}\" (with bbox)?")

  /// UGround-V1: one point (x, y) in 0...1000.
  static let uground = PromptTemplate(name: "uground-v1", user: """
    Your task is to help the user identify the precise coordinates (x, y) of a specific area/element/object on the screen based on a description.

    - Your response should aim to point to the center or a representative point within the described area/element/object as accurately as possible.
    - If the description is unclear or ambiguous, infer the most relevant area or element based on its likely context or purpose.
    - Your answer should be a single string (x, y) corresponding to the point of the interest.

    Description: {instruction}

    Answer:
    """)

  /// ShowUI: its instruction text, the screenshot, then the query; [x, y] fractions.
  static let showUI = PromptTemplate(
    name: "showui",
    user: "Based on the screenshot of the page, I give a text description and you give its corresponding location. "
      + "The coordinate represents a clickable location [x, y] for an element, which is a relative coordinate on "
      + "the screenshot, scaled from 0 to 1.{image}{instruction}")
}
